// Downloads: one button per format the server writes (the catalog's), each fetching
// /result?format=… with the key and saving it; the status line says how it goes ("preparing"
// while the server renders, then the share received), so a slow one is never silent.
import { call } from "./api.js";
import { catalog } from "./catalog.js";
import { el } from "./format.js";

// The body of `response`, read as it arrives; `progress(received, total)` after each piece
// (total: the Content-Length, or null when the server sent none).
async function readAll(response, progress) {
  const total = Number(response.headers.get("Content-Length")) || null;
  if (!response.body) return response.blob();
  const reader = response.body.getReader();
  const pieces = [];
  let received = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    pieces.push(value);
    received += value.length;
    progress(received, total);
  }
  return new Blob(pieces, { type: response.headers.get("Content-Type") || "" });
}

function sizeOf(bytes) {
  return bytes < 1024 * 1024 ? `${Math.max(1, Math.round(bytes / 1024))} KB` : `${(bytes / 1048576).toFixed(1)} MB`;
}

async function download(job, format, say) {
  const label = format.toUpperCase();
  say(`Preparing ${label}…`);
  try {
    const response = await call(`/v1/jobs/${job.id}/result?format=${format}`);
    const blob = await readAll(response, (received, total) => {
      say(total ? `Downloading ${label}… ${Math.round((100 * received) / total)}%` : `Downloading ${label}… ${sizeOf(received)}`);
    });
    const base = (job.filename || `job-${job.id}`).replace(/\.[^.]*$/, "");
    const link = el("a", { href: URL.createObjectURL(blob), download: `${base}.${format}` });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    say(`Downloaded ${base}.${format} (${sizeOf(blob.size)}).`);
  } catch (error) {
    say(`Download failed: ${error.message}`, true);
  }
}

// currentJob(): the job open now; say(text, bad): the status line.
export function setupDownloads(currentJob, say) {
  const list = document.getElementById("download-list");
  list.replaceChildren(...catalog.formats.map((format) => el("button", {
    type: "button", dataset: { format }, onclick: () => {
      document.getElementById("downloads").open = false;
      download(currentJob(), format, say);
    },
  }, format.toUpperCase())));
}
