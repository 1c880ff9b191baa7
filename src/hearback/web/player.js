// Playback: the job's audio (fetched with the key, played from a blob URL, since <audio src>
// cannot send a header), the spoken word highlighted and kept in view, and the keyboard.
import { call, hasKey } from "./api.js";
import { movePlayhead, wordAt } from "./transcript.js";

const audio = () => document.getElementById("audio");
let words = [];
let current = -1;
let doc = null;
let blobUrl = null;

// Plays the job's kept audio: streamed from the route when no key is needed (seeks use HTTP
// Range), else fetched with the key and played from a blob URL. Returns whether there is audio.
export async function loadAudio(jobId, kept) {
  const player = audio();
  if (blobUrl) URL.revokeObjectURL(blobUrl);
  blobUrl = null;
  player.removeAttribute("src");
  player.hidden = !kept;
  document.getElementById("no-audio").hidden = kept;
  if (!kept) return false;
  if (!hasKey()) {
    player.src = `/v1/jobs/${jobId}/audio`;
    return true;
  }
  try {
    const blob = await (await call(`/v1/jobs/${jobId}/audio`)).blob();
    blobUrl = URL.createObjectURL(blob);
    player.src = blobUrl;
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

export function seek(time, play) {
  const player = audio();
  player.currentTime = Math.max(0, time);
  highlight();
  if (play) player.play().catch(() => {});
}

function inView(node) {
  const box = node.getBoundingClientRect();
  return box.top >= 0 && box.bottom <= window.innerHeight;
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

export function setupPlayer(undo) {
  const player = audio();
  player.addEventListener("play", () => requestAnimationFrame(tick));
  player.addEventListener("seeked", highlight);
  player.addEventListener("timeupdate", highlight);
  document.addEventListener("keydown", (event) => {
    if (document.getElementById("editor").hidden) return;
    if ((event.ctrlKey || event.metaKey) && event.key.toLowerCase() === "z" && !typing(event.target)) {
      event.preventDefault();
      undo();
      return;
    }
    if (typing(event.target) || event.target.closest("button, audio") || event.ctrlKey || event.metaKey || event.altKey) return;
    if (event.key === " ") {
      event.preventDefault();
      if (player.paused) player.play().catch(() => {}); else player.pause();
    } else if (event.key === "ArrowLeft" || event.key === "ArrowRight") {
      event.preventDefault();
      seek(player.currentTime + (event.key === "ArrowLeft" ? -5 : 5), false);
    }
  });
}
