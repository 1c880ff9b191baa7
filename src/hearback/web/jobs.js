// Starting a job (file, drop or URL; language, speaker bounds, known voices), following its
// progress by stage, and the list of past jobs.
import { call, json } from "./api.js";
import { clock, dateOf, el } from "./format.js";

// The pipeline's stages in the order they run (hearback.types.Stage); "download" only for URLs.
const STAGES = ["download", "decode", "transcribe", "align", "diarize", "assign"];
const STAGE_NAMES = { download: "download", decode: "decode", transcribe: "transcribe",
                      asr: "transcribe", align: "align words", diarize: "find speakers",
                      assign: "assign words" };

export function setupForm(onCreated) {
  const form = document.getElementById("new-job");
  const input = document.getElementById("file-input");
  const drop = document.getElementById("drop");
  const dropText = document.getElementById("drop-text");
  const showFile = () => {
    dropText.textContent = input.files.length ? input.files[0].name : "Drop a recording here, or pick a file";
  };
  input.addEventListener("change", showFile);
  drop.addEventListener("dragover", (event) => { event.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (event) => {
    event.preventDefault();
    drop.classList.remove("over");
    if (event.dataTransfer.files.length) {
      input.files = event.dataTransfer.files;
      showFile();
    }
  });
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    const error = document.getElementById("start-error");
    error.textContent = "";
    try {
      const job = await json("/v1/jobs", { method: "POST", body: formData(input) });
      form.reset();
      showFile();
      onCreated(job);
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
}

function formData(input) {
  const data = new FormData();
  const url = document.getElementById("url-input").value.trim();
  if (input.files.length) data.append("file", input.files[0]);
  if (url) data.append("audio_url", url);
  const fields = { language: "language", min_speakers: "min-speakers", max_speakers: "max-speakers" };
  for (const [name, id] of Object.entries(fields)) {
    const value = document.getElementById(id).value.trim();
    if (value) data.append(name, value);
  }
  for (const [name, value] of libraryChoice()) data.append(name, value);
  return data;
}

// The form fields that say which library voices a new job names: none when all are ticked
// (the default), use_library=false when none is, else each ticked name.
export function libraryChoice() {
  const boxes = [...document.querySelectorAll("#voice-choices input")];
  const ticked = boxes.filter((box) => box.checked).map((box) => box.value);
  if (ticked.length === boxes.length) return [];
  if (!ticked.length) return [["use_library", "false"]];
  return ticked.map((name) => ["library_speakers[]", name]);
}

// The library's voices, one box each, all ticked: a new job names the ticked ones; hidden
// while the library is empty.
export async function loadVoices() {
  let voices = [];
  try {
    voices = (await json("/v1/speakers")).data || [];
  } catch {
    voices = []; // no library on this server: nothing to offer
  }
  const choices = document.getElementById("voice-choices");
  const ticked = new Map([...choices.querySelectorAll("input")].map((box) => [box.value, box.checked]));
  choices.replaceChildren(...voices.map((voice) => {
    const box = Object.assign(document.createElement("input"),
      { type: "checkbox", value: voice.name, defaultChecked: true, checked: ticked.get(voice.name) ?? true });
    const label = Object.assign(document.createElement("label"), { className: "check" });
    label.append(box, " ", voice.name);
    return label;
  }));
  document.getElementById("voices").hidden = voices.length === 0;
}

export async function refreshJobs(currentId, onOpen, onDelete) {
  let jobs = [];
  try {
    jobs = (await json("/v1/jobs?limit=50")).data;
  } catch {
    jobs = []; // an older server without the list route
  }
  const list = document.getElementById("jobs");
  list.replaceChildren(...jobs.map((job) => jobItem(job, job.id === currentId, onOpen, onDelete)));
  document.getElementById("jobs-empty").hidden = jobs.length > 0;
  return jobs;
}

function jobItem(job, current, onOpen, onDelete) {
  const name = job.filename || job.id;
  const open = el("button", { type: "button", className: "job-open", title: `Open ${name}`,
                              onclick: () => onOpen(job.id) },
    el("span", { className: "job-name" }, name),
    el("span", { className: "job-meta" },
      el("span", { className: `badge ${job.status}` }, job.status),
      ` ${job.duration != null ? `${clock(job.duration)} · ` : ""}${dateOf(job.created_at)}`));
  const remove = el("button", { type: "button", className: "job-delete", title: `Delete ${name}`,
                                ariaLabel: `Delete ${name}`, onclick: () => onDelete(job.id, name) }, "✕");
  return el("li", { className: current ? "job current" : "job", dataset: { id: job.id } }, open, remove);
}

export async function deleteJob(id) {
  await call(`/v1/jobs/${id}`, { method: "DELETE" });
}

// The status card: the job's stage and a bar over all its stages, in a fixed-size box so the
// page does not move while the job runs.
const downloading = new Set(); // jobs seen in the download stage (given a URL): they keep it listed

export function showProgress(job) {
  if (job.stage === "download") downloading.add(job.id);
  const stages = STAGES.filter((stage) => stage !== "download" || downloading.has(job.id));
  const stage = job.stage === "asr" ? "transcribe" : job.stage;
  const done = job.status === "succeeded";
  let index = stages.indexOf(stage);
  if (index < 0) index = 0;
  const fraction = done ? 1 : (index + (job.progress || 0)) / stages.length;
  const percent = Math.round(fraction * 100);
  document.getElementById("bar-fill").style.width = `${percent}%`;
  const bar = document.querySelector(".bar");
  bar.setAttribute("aria-valuenow", String(percent));
  bar.dataset.stage = done ? "done" : job.status === "failed" ? "failed" : stage || job.status;
  const text = done ? (job.duration != null ? `done · ${clock(job.duration)}` : "done") : job.status === "failed" ? "failed"
    : job.status === "queued" ? "waiting for its turn"
    : `step ${index + 1} of ${stages.length}: ${STAGE_NAMES[stage] || stage} · ${percent}% in all`;
  document.getElementById("stage-text").textContent = text + remoteText(job);
  document.getElementById("stages").replaceChildren(...stages.map((name, i) => el("li", {
    className: done || i < index ? "past" : i === index && job.status === "running" ? "now" : "",
  }, STAGE_NAMES[name])));
  document.getElementById("job-error").textContent = job.error ? job.error.message : "";
}

// A job run on a RunPod endpoint (the runpod backend's view.remote): waiting for a worker, or
// RunPod's queue and run times and the estimated cost once it ran.
export function remoteText(job) {
  const remote = job.remote;
  if (!remote) return "";
  if (job.status === "running" && remote.status === "IN_QUEUE") return " · waiting for a RunPod worker";
  const parts = [];
  if (remote.delay_time != null) parts.push(`queued ${remote.delay_time.toFixed(1)} s`);
  if (remote.execution_time != null) parts.push(`ran ${remote.execution_time.toFixed(1)} s`);
  if (remote.cost != null) parts.push(`≈ $${remote.cost.toFixed(4)}`);
  return parts.length ? ` · RunPod: ${parts.join(", ")}` : "";
}
