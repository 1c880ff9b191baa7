// Playback: the job's audio (fetched with the key, played from a blob URL, since <audio src>
// cannot send a header), the spoken word highlighted and kept in view, the speed, the step
// back when playback resumes after a pause (as transcription players do), and the keyboard.
import { call, hasKey } from "./api.js";
import { movePlayhead } from "./timeline.js";
import { wordAt } from "./transcript.js";

const audio = () => document.getElementById("audio");
const SPEEDS = [0.5, 0.75, 1, 1.25, 1.5, 1.75, 2];
const REWINDS = [0, 1, 2, 3, 5]; // seconds back on resume
const SKIP = 5; // seconds ← and → move
const PREFS = "hearback-player"; // speed and step back, kept in this browser (no job data)
let words = [];
let current = -1;
let doc = null;
let blobUrl = null;
let resumable = false; // paused by the person and not moved since: the next play is a resume

// Plays the job's kept audio: streamed from the route when no key is needed (seeks use HTTP
// Range), else fetched with the key and played from a blob URL. Returns whether there is audio.
export async function loadAudio(jobId, kept) {
  const player = audio();
  if (blobUrl) URL.revokeObjectURL(blobUrl);
  blobUrl = null;
  resumable = false;
  player.removeAttribute("src");
  player.hidden = !kept;
  document.getElementById("no-audio").hidden = kept;
  if (!kept) return false;
  if (!hasKey()) {
    player.src = `/v1/jobs/${jobId}/audio`;
    player.playbackRate = Number(document.getElementById("speed").value);
    return true;
  }
  try {
    const blob = await (await call(`/v1/jobs/${jobId}/audio`)).blob();
    blobUrl = URL.createObjectURL(blob);
    player.src = blobUrl;
    player.playbackRate = Number(document.getElementById("speed").value);
    return true;
  } catch {
    player.hidden = true; // gone since the job was read (retention)
    document.getElementById("no-audio").hidden = false;
    return false;
  }
}

export function follow(newDoc, newWords) {
  doc = newDoc;
  words = newWords;
  current = -1;
  highlight();
}

// Plays (or only moves) from `time`: a jump, never a resume, so it does not step back.
export function seek(time, play) {
  const player = audio();
  resumable = false;
  player.currentTime = Math.max(0, time);
  highlight();
  if (play) player.play().catch(() => {});
}

export function playPause() {
  const player = audio();
  if (player.paused) player.play().catch(() => {}); else player.pause();
}

function inView(node) {
  const box = node.getBoundingClientRect();
  const pinned = document.getElementById("pinned").getBoundingClientRect();
  return box.top >= Math.max(0, pinned.bottom) && box.bottom <= window.innerHeight;
}

function highlight() {
  const time = audio().currentTime;
  const index = wordAt(words, time);
  if (index !== current) {
    if (current >= 0 && words[current]) words[current].node.classList.remove("now");
    current = index;
    if (index >= 0) {
      const node = words[index].node;
      node.classList.add("now");
      if (!audio().paused && !inView(node)) node.scrollIntoView({ block: "center", behavior: "smooth" });
    }
  }
  if (doc) movePlayhead(doc, time);
}

function tick() {
  highlight();
  if (!audio().paused) requestAnimationFrame(tick);
}

function typing(target) {
  return target.closest("input, textarea, select, [contenteditable=true]") !== null;
}

function prefs() {
  try {
    return JSON.parse(localStorage.getItem(PREFS)) || {};
  } catch {
    return {};
  }
}

function menu(id, values, chosen, label) {
  const select = document.getElementById(id);
  select.replaceChildren(...values.map((value) => new Option(label(value), String(value), false, value === chosen)));
  select.addEventListener("change", () => {
    localStorage.setItem(PREFS, JSON.stringify({ speed: +speedMenu().value, rewind: +rewindMenu().value }));
  });
  return select;
}

const speedMenu = () => document.getElementById("speed");
const rewindMenu = () => document.getElementById("rewind");

function setSpeed(step) {
  const menuNode = speedMenu();
  const index = SPEEDS.indexOf(+menuNode.value) + step;
  if (index < 0 || index >= SPEEDS.length) return;
  menuNode.value = String(SPEEDS[index]);
  menuNode.dispatchEvent(new Event("change"));
}

function setupControls(player) {
  const saved = prefs();
  menu("speed", SPEEDS, SPEEDS.includes(saved.speed) ? saved.speed : 1, (v) => `${v}×`)
    .addEventListener("change", () => { player.playbackRate = +speedMenu().value; });
  menu("rewind", REWINDS, REWINDS.includes(saved.rewind) ? saved.rewind : 2, (v) => `${v} s`);
  player.playbackRate = +speedMenu().value;
  player.addEventListener("ratechange", () => {
    if (String(player.playbackRate) !== speedMenu().value && SPEEDS.includes(player.playbackRate)) {
      speedMenu().value = String(player.playbackRate); // changed in the player's own menu
    }
  });
  player.addEventListener("pause", () => { resumable = !player.ended; });
  player.addEventListener("play", () => {
    const back = +rewindMenu().value;
    if (resumable && back > 0) player.currentTime = Math.max(0, player.currentTime - back); // hear the last words again
    resumable = false;
    requestAnimationFrame(tick);
  });
  player.addEventListener("seeking", () => { if (player.paused) resumable = false; }); // moved while paused: a jump
}

// keys: {undo, find, escape}: what Ctrl+Z, Ctrl+F and Esc do on this page.
export function setupPlayer(keys) {
  const player = audio();
  setupControls(player);
  player.addEventListener("seeked", highlight);
  player.addEventListener("timeupdate", highlight);
  document.addEventListener("keydown", (event) => {
    if (document.getElementById("editor").hidden) return;
    const key = event.key.toLowerCase();
    const command = event.ctrlKey || event.metaKey;
    if (command && key === "f" && !event.altKey) {
      event.preventDefault();
      keys.find();
      return;
    }
    if (key === "escape") { keys.escape(); return; }
    if (command && key === "z" && !event.shiftKey && !typing(event.target)) {
      event.preventDefault();
      keys.undo();
      return;
    }
    if (typing(event.target) || event.target.closest("button, audio, summary") || command || event.altKey) return;
    if (event.key === " ") {
      event.preventDefault();
      playPause();
    } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      event.preventDefault();
      seek(player.currentTime + (event.key === "ArrowLeft" ? -SKIP : SKIP), false);
    } else if (event.key === "-" || event.key === "+" || event.key === "=") {
      event.preventDefault();
      setSpeed(event.key === "-" ? -1 : 1);
    }
  });
}
