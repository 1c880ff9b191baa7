// The status card: while a job runs, its stage and one bar over all its stages, in a box that
// keeps its size so the page does not move; once it succeeded, one line with the stages that
// really ran (the job view's `stages`); when it failed, the stage it failed in, the error and
// "Try again".
import { STAGE, STATUS, moving, stageName, stageOrder } from "./catalog.js";
import { clock, el } from "./format.js";

// The stages a job shows: those it ran, then (while it runs) those still to come.
function plannedStages(job) {
  const ran = job.stages || [];
  if (!moving(job.status)) return ran;
  const order = stageOrder().filter((stage) => stage !== STAGE.DONE);
  const rest = order.slice(ran.length ? order.indexOf(ran[ran.length - 1]) + 1 : 0);
  // before it starts, a job given a URL cannot be told from an upload: download shows once it runs
  return [...ran, ...(ran.length ? rest : rest.filter((stage) => stage !== STAGE.DOWNLOAD))];
}

function stageItem(stage, job, index, current) {
  let state = "";
  if (job.status === STATUS.SUCCEEDED || index < current) state = "past";
  else if (index === current) state = job.status === STATUS.FAILED ? "stopped" : job.status === STATUS.RUNNING ? "now" : "";
  return el("li", { className: state, dataset: { stage } }, stageName(stage));
}

export function showProgress(job) {
  const done = job.status === STATUS.SUCCEEDED;
  const failed = job.status === STATUS.FAILED;
  const stages = plannedStages(job);
  let index = stages.indexOf(job.stage);
  if (index < 0) index = failed ? stages.length - 1 : 0;
  const fraction = done ? 1 : stages.length ? (index + (job.progress || 0)) / stages.length : 0;
  const percent = Math.round(fraction * 100);
  document.getElementById("bar-fill").style.width = `${percent}%`;
  const bar = document.querySelector(".bar");
  bar.setAttribute("aria-valuenow", String(percent));
  bar.dataset.stage = done ? STAGE.DONE : failed ? STATUS.FAILED : job.stage || job.status;
  let text;
  if (done) text = job.duration != null ? `done · ${clock(job.duration)}` : "done";
  else if (failed) text = job.stage && job.stage !== STAGE.DONE ? `failed during “${stageName(job.stage)}”` : "this job failed";
  else if (job.status === STATUS.QUEUED) text = "waiting for its turn";
  else text = `step ${index + 1} of ${stages.length}: ${stageName(job.stage)} · ${percent}% in all`;
  document.getElementById("stage-text").textContent = text + remoteText(job);
  document.getElementById("stages").replaceChildren(...stages.map((stage, i) => stageItem(stage, job, i, index)));
  document.getElementById("status").classList.toggle("folded", done);
  document.getElementById("status").classList.toggle("stopped", failed);
  document.getElementById("job-error").textContent = job.error ? job.error.message : "";
  document.getElementById("retry").hidden = !failed;
}

// A job run on a RunPod endpoint (the runpod backend's view.remote): waiting for a worker, or
// RunPod's queue and run times and the estimated cost once it ran.
export function remoteText(job) {
  const remote = job.remote;
  if (!remote) return "";
  if (job.status === STATUS.RUNNING && remote.status === "IN_QUEUE") return " · waiting for a RunPod worker";
  const parts = [];
  if (remote.delay_time != null) parts.push(`queued ${remote.delay_time.toFixed(1)} s`);
  if (remote.execution_time != null) parts.push(`ran ${remote.execution_time.toFixed(1)} s`);
  if (remote.cost != null) parts.push(`≈ $${remote.cost.toFixed(4)}`);
  return parts.length ? ` · RunPod: ${parts.join(", ")}` : "";
}

export function clearStatus() {
  document.getElementById("job-title").textContent = "No transcript open";
  document.getElementById("stage-text").textContent = "";
  document.getElementById("bar-fill").style.width = "0%";
  document.getElementById("stages").replaceChildren();
  document.getElementById("job-error").textContent = "";
  document.getElementById("retry").hidden = true;
  document.getElementById("status").classList.remove("folded", "stopped");
}
