// The editor page: wires the job form and list, the status card, the transcript, the
// speakers panel and the player to one open job (named in the URL's #job=…, so a reload
// keeps it open). Every change goes through the API, so it persists and every export follows.
import { call, json, postJson } from "./api.js";
import { colourMap, el } from "./format.js";
import { deleteJob, loadVoices, refreshJobs, setupForm, showProgress } from "./jobs.js";
import { follow, loadAudio, seek, setupPlayer } from "./player.js";
import { renderSpeakers } from "./speakers.js";
import { chosenSpeaker, editWord, renderTimeline, renderTranscript, speakerMenu } from "./transcript.js";

const POLL_MS = 700;
const state = { jobId: null, job: null, doc: null, timer: null, lastStatus: null, busy: false };

function say(text, bad = false) {
  const line = document.getElementById("edit-message");
  line.textContent = text;
  line.classList.toggle("bad", bad);
}

const actions = {
  // every change names the revision of the document it was made on (the server refuses a stale one)
  edit: (ops) => change(() => postJson(`/v1/jobs/${state.jobId}/edits`, { ops, revision: state.doc.revision }), "Saved."),
  seek,
  say,
  voicesChanged: loadVoices,
};

// One change at a time: an edit names segments and words of the document as the page shows
// it, so it waits for the one before to be shown (one sent meanwhile is refused, with a word).
async function change(send, done) {
  const jobId = state.jobId;
  if (state.busy) {
    say("Still saving the last change; try again in a moment.", true);
    if (state.doc) showDoc(state.doc);
    return;
  }
  state.busy = true;
  say("Saving…");
  try {
    const doc = await send();
    if (jobId === state.jobId) showDoc(doc);
    say(done);
    await showRevision(jobId);
  } catch (error) {
    if (error.code === "stale_revision" && jobId === state.jobId) {
      say("The transcript was changed elsewhere: this is the latest version. Make the change again.", true);
      showDoc(await json(`/v1/jobs/${jobId}/result?format=json`));
      await showRevision(jobId);
      return;
    }
    say(error.code === "nothing_to_undo" ? "Nothing to undo." : `Not saved: ${error.message}`, true);
    if (jobId === state.jobId && state.doc) showDoc(state.doc); // puts back what the page changed
  } finally {
    state.busy = false;
  }
}

// The job view counts the steps that can be undone (undo_steps): the Undo button is off at none.
async function showRevision(jobId) {
  try {
    const job = await json(`/v1/jobs/${jobId}`);
    if (jobId !== state.jobId) return;
    state.job = job;
    document.getElementById("undo").disabled = job.undo_steps === 0;
  } catch {
    // the job was deleted meanwhile: the next action says so
  }
}

function undo() {
  return change(() => postJson(`/v1/jobs/${state.jobId}/undo`, { revision: state.doc.revision }), "Undone.");
}

function showDoc(doc) {
  state.doc = doc;
  const colours = colourMap(doc.speakers);
  const words = renderTranscript(doc, colours, actions);
  renderSpeakers(doc, colours, state.jobId, actions);
  renderTimeline(doc, colours, seek);
  document.getElementById("selection-speaker").replaceWith(
    Object.assign(speakerMenu(doc.speakers, null, ""), { id: "selection-speaker" }));
  hideSelection();
  follow(doc, words);
  document.body.dataset.revision = String((Number(document.body.dataset.revision) || 0) + 1);
}

function clearJob() {
  clearTimeout(state.timer);
  Object.assign(state, { jobId: null, job: null, doc: null, lastStatus: null });
  document.getElementById("editor").hidden = true;
  document.body.classList.remove("has-job");
  document.getElementById("job-title").textContent = "No transcript open";
  document.title = "Hearback";
  document.getElementById("stage-text").textContent = "";
  document.getElementById("bar-fill").style.width = "0%";
  document.getElementById("stages").replaceChildren();
  document.getElementById("job-error").textContent = "";
}

async function openJob(id) {
  clearJob();
  state.jobId = id;
  document.body.classList.add("has-job");
  if (location.hash !== `#job=${id}`) history.replaceState(null, "", `#job=${id}`);
  document.getElementById("job-title").textContent = "Loading…";
  await poll(id);
  markCurrent();
}

async function poll(id) {
  let job;
  try {
    job = await json(`/v1/jobs/${id}`);
  } catch (error) {
    if (id !== state.jobId) return;
    document.getElementById("job-title").textContent = "No transcript open";
    document.getElementById("job-error").textContent = error.code === "not_found" ? "That job is gone." : error.message;
    return;
  }
  if (id !== state.jobId) return;
  state.job = job;
  document.getElementById("job-title").textContent = job.filename || job.id;
  document.title = `${job.filename || job.id} – Hearback`;
  showProgress(job);
  if (job.status !== state.lastStatus) {
    state.lastStatus = job.status;
    refresh();
  }
  if (job.status === "queued" || job.status === "running") {
    state.timer = setTimeout(() => poll(id), POLL_MS);
  } else if (job.status === "succeeded") {
    await openResult(id);
  }
}

async function openResult(id) {
  let doc;
  try {
    doc = await json(`/v1/jobs/${id}/result?format=json`);
  } catch (error) {
    if (id === state.jobId) document.getElementById("job-error").textContent = error.message;
    return;
  }
  if (id !== state.jobId) return;
  document.getElementById("editor").hidden = false;
  document.getElementById("undo").disabled = state.job.undo_steps === 0;
  showDoc(doc);
  await loadAudio(id, state.job.audio !== false);
}

const LIST_MS = 3000;
let listTimer = null;

// The job list; again every few seconds while one of its jobs is queued or running.
async function refresh() {
  clearTimeout(listTimer);
  const jobs = await refreshJobs(state.jobId, openJob, removeJob);
  if (jobs.some((job) => job.status === "queued" || job.status === "running")) {
    listTimer = setTimeout(refresh, LIST_MS);
  }
}

function markCurrent() {
  for (const item of document.querySelectorAll("#jobs .job")) {
    item.classList.toggle("current", item.dataset.id === state.jobId);
  }
}

async function removeJob(id, name) {
  if (!window.confirm(`Delete “${name}” and everything kept of it?`)) return;
  try {
    await deleteJob(id);
  } catch (error) {
    document.getElementById("start-error").textContent = error.message;
  }
  if (id === state.jobId) {
    clearJob();
    history.replaceState(null, "", location.pathname);
  }
  refresh();
}

async function download(format) {
  const job = state.job;
  try {
    const blob = await (await call(`/v1/jobs/${job.id}/result?format=${format}`)).blob();
    const base = (job.filename || `job-${job.id}`).replace(/\.[^.]*$/, "");
    const link = el("a", { href: URL.createObjectURL(blob), download: `${base}.${format}` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
  } catch (error) {
    say(`Download failed: ${error.message}`, true);
  }
}

// Words selected with the mouse inside one segment: move them, or replace them.
function selectedWords() {
  const selection = window.getSelection();
  if (!selection || selection.isCollapsed) return null;
  const spans = [...document.querySelectorAll("#transcript .w")].filter((node) => selection.containsNode(node, true));
  if (!spans.length || spans.some((node) => node.dataset.seg !== spans[0].dataset.seg)) return null;
  return { segment: +spans[0].dataset.seg, words: [+spans[0].dataset.w, +spans[spans.length - 1].dataset.w + 1],
           text: spans.map((node) => node.textContent).join(" ") };
}

function hideSelection() {
  document.getElementById("selection-bar").hidden = true;
  document.getElementById("selection-replace").value = "";
}

function showSelection() {
  const picked = selectedWords();
  if (!picked) {
    if (!window.getSelection().isCollapsed) say("To move or replace words, select them within one sentence.");
    hideSelection();
    return;
  }
  state.selection = picked;
  document.getElementById("selection-text").textContent = `“${picked.text}”`;
  document.getElementById("selection-bar").hidden = false;
}

function applySelection() {
  const picked = state.selection;
  const replace = document.getElementById("selection-replace").value.trim();
  if (!picked) return;
  if (replace) {
    actions.edit([{ op: "edit", segment: picked.segment, words: picked.words, text: replace }]);
  } else {
    const speaker = chosenSpeaker(document.getElementById("selection-speaker"));
    if (speaker) actions.edit([{ op: "assign", segment: picked.segment, words: picked.words, speaker }]);
  }
}

function setupTranscript() {
  const root = document.getElementById("transcript");
  root.addEventListener("click", (event) => {
    const word = event.target.closest(".w");
    if (word && window.getSelection().isCollapsed) seek(+word.dataset.start, true);
  });
  root.addEventListener("dblclick", (event) => {
    const word = event.target.closest(".w");
    if (!word) return;
    document.getElementById("audio").pause();
    window.getSelection().removeAllRanges();
    editWord(word, actions);
  });
  root.addEventListener("mouseup", () => setTimeout(showSelection, 0));
  root.addEventListener("keyup", showSelection);
  document.getElementById("selection-apply").addEventListener("click", applySelection);
  document.getElementById("undo").addEventListener("click", undo);
  for (const button of document.querySelectorAll(".downloads button")) {
    button.addEventListener("click", () => download(button.dataset.format));
  }
}

async function start() {
  setupForm((job) => openJob(job.id));
  setupTranscript();
  setupPlayer(undo);
  window.addEventListener("hashchange", () => {
    const id = location.hash.match(/^#job=([\w-]+)$/)?.[1];
    if (id && id !== state.jobId) openJob(id);
  });
  await refresh();
  loadVoices();
  const id = location.hash.match(/^#job=([\w-]+)$/)?.[1];
  if (id) await openJob(id);
  document.body.dataset.ready = "1";
}

start();
