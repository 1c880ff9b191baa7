// The editor page: wires the job form and list, the status card, the transcript, the
// speakers panel, the player, find and replace and the downloads to one open job (named in the
// URL's #job=…, so a reload keeps it open). Every change goes through the API, so it persists
// and every export follows.
import { json, postJson } from "./api.js";
import { STATUS, loadCatalog, moving } from "./catalog.js";
import { setupDownloads } from "./downloads.js";
import { closeFind, findShown, openFind, setupFind } from "./find.js";
import { colourMap } from "./format.js";
import { deleteJob, loadVoices, refreshJobs, resubmit, setupForm } from "./jobs.js";
import { follow, loadAudio, seek, setupPlayer } from "./player.js";
import { renderSpeakers } from "./speakers.js";
import { clearStatus, showProgress } from "./status.js";
import { movePlayhead, renderTimeline } from "./timeline.js";
import { hideSelection, renderTranscript, setupTranscript, speakerMenu } from "./transcript.js";
import { setupVoiceDialog } from "./voicedialog.js";

const POLL_MS = 700;
const state = { jobId: null, job: null, doc: null, timer: null, lastStatus: null, busy: false };

function say(text, bad = false) {
  const line = document.getElementById("edit-message");
  line.textContent = text;
  line.classList.toggle("bad", bad);
}

// keep: {typed, reopen, done}: what the person typed for this change, how to put it back in
// its box when the change is refused (reopen() says whether it could), and what to say once
// it is saved. Every change names the revision of the document it was made on.
const actions = {
  edit: (ops, keep = {}) => change(() => postJson(`/v1/jobs/${state.jobId}/edits`, { ops, revision: state.doc?.revision }),
    keep.done || "Saved.", keep),
  seek,
  say,
  voicesChanged: loadVoices,
};

// One change at a time: an edit names segments and words of the document as the page shows
// it, so it waits for the one before to be shown (one sent meanwhile is refused, with a word).
async function change(send, done, keep = {}) {
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
    if (jobId !== state.jobId) return;
    if (error.code === "stale_revision") await showLatest(jobId);
    else if (state.doc) showDoc(state.doc); // puts back what the page changed
    const kept = keep.reopen ? keep.reopen() : false;
    say(refusal(error, keep.typed, kept), true);
  } finally {
    state.busy = false;
  }
}

// What the page says when a change is refused, keeping what was typed in words if not in its box.
function refusal(error, typed, reopened) {
  if (error.code === "nothing_to_undo") return "Nothing to undo.";
  const text = typed ? (reopened ? " What you typed is still in its box: check it, then save again."
                                 : ` What you typed was: “${typed}”.`) : "";
  if (error.code === "stale_revision") {
    return `Not saved: this transcript was changed elsewhere (another tab or person) since this page showed it. It now shows the latest version.${text}`;
  }
  return `Not saved: ${error.message.replace(/[.!]?$/, ".")}${text}`;
}

// The document as it is now (another tab or client changed it), shown in place of a stale one.
async function showLatest(jobId) {
  try {
    const doc = await json(`/v1/jobs/${jobId}/result?format=json`);
    if (jobId === state.jobId) showDoc(doc);
    await showRevision(jobId);
  } catch {
    if (state.doc) showDoc(state.doc); // gone meanwhile: the next action says so
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
  return change(() => postJson(`/v1/jobs/${state.jobId}/undo`, { revision: state.doc?.revision }), "Undone.");
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
  findShown(doc);
  document.body.dataset.revision = String((Number(document.body.dataset.revision) || 0) + 1);
}

function clearJob() {
  clearTimeout(state.timer);
  Object.assign(state, { jobId: null, job: null, doc: null, lastStatus: null });
  document.getElementById("editor").hidden = true;
  document.body.classList.remove("has-job");
  document.title = "Hearback";
  clearStatus();
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
  if (moving(job.status)) {
    state.timer = setTimeout(() => poll(id), POLL_MS);
  } else if (job.status === STATUS.SUCCEEDED) {
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
  if (jobs.some((job) => moving(job.status))) {
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

// "Try again" on a failed job: the same recording and choices as a new job, when this tab
// still holds them; else the form, to give the recording again.
async function retry() {
  const error = document.getElementById("job-error");
  try {
    const job = await resubmit(state.jobId);
    if (job) { await openJob(job.id); return; }
    error.textContent += " — This tab no longer holds the recording (the server deletes it when a job ends): choose it again to try again.";
    document.getElementById("file-input").focus();
  } catch (failure) {
    error.textContent = failure.message;
  }
}

function escape() {
  if (!document.getElementById("find-bar").hidden) closeFind();
  hideSelection();
}

async function start() {
  await loadCatalog();
  setupForm((job) => openJob(job.id));
  setupTranscript(actions);
  setupPlayer({ undo, find: openFind, escape });
  setupFind(actions);
  setupDownloads(() => state.job, say);
  setupVoiceDialog();
  document.getElementById("undo").addEventListener("click", undo);
  document.getElementById("retry").addEventListener("click", retry);
  document.getElementById("speakers-panel").addEventListener("toggle", () => {
    if (state.doc) movePlayhead(state.doc, document.getElementById("audio").currentTime);
  });
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
