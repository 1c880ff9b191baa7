// Starting a job (file, drop or URL; language, speaker bounds, known voices) and the list of
// past jobs. The form's choices come from the server's catalog (catalog.js).
import { call, json } from "./api.js";
import { catalog, languageName } from "./catalog.js";
import { clock, dateOf, el } from "./format.js";

const NO_FILE = "or drop it here";
const sent = new Map(); // job id -> the form it was made from, while this tab holds it ("try again")

export function setupForm(onCreated) {
  const form = document.getElementById("new-job");
  const input = document.getElementById("file-input");
  const drop = document.getElementById("drop");
  const dropText = document.getElementById("drop-text");
  const showFile = () => {
    dropText.textContent = input.files.length ? input.files[0].name : NO_FILE;
    dropText.title = input.files.length ? input.files[0].name : "";
  };
  fillChoices();
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
      const job = await submit(formData(input));
      form.reset();
      showFile();
      onCreated(job);
    } catch (failure) {
      error.textContent = failure.message;
    }
  });
}

// The language menu and the speaker bounds, from the catalog.
function fillChoices() {
  const menu = document.getElementById("language");
  menu.append(...catalog.languages.map((language) => el("option", { value: language.code }, languageName(language))));
  for (const id of ["min-speakers", "max-speakers"]) {
    document.getElementById(id).max = String(catalog.max_speakers);
  }
}

async function submit(data) {
  const job = await json("/v1/jobs", { method: "POST", body: data });
  sent.set(job.id, data);
  return job;
}

// The same recording with the same choices, again: a new job (null when this tab no longer
// holds the recording: it is deleted on the server once a job ends).
export function resubmit(jobId) {
  const data = sent.get(jobId);
  return data ? submit(data) : null;
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

// The library's voices (GET /v1/speakers; [] when this server has no library).
export async function libraryVoices() {
  try {
    return (await json("/v1/speakers")).data || [];
  } catch {
    return [];
  }
}

// The library's voices, one box each, all ticked: a new job names the ticked ones; hidden
// while the library is empty.
export async function loadVoices() {
  const voices = await libraryVoices();
  const choices = document.getElementById("voice-choices");
  const ticked = new Map([...choices.querySelectorAll("input")].map((box) => [box.value, box.checked]));
  choices.replaceChildren(...voices.map((voice) => {
    const box = el("input", { type: "checkbox", value: voice.name, checked: ticked.get(voice.name) ?? true });
    return el("label", { className: "check" }, box, " ", voice.name);
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
