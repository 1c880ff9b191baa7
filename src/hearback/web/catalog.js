// What the server knows and the page must not copy: output formats, stages, job statuses,
// the languages its model transcribes and the most speakers an option may ask for, read once
// from GET /v1/catalog. STAGE and STATUS are the server's enums ({NAME: value}, in order).
import { json } from "./api.js";

export const catalog = { formats: [], stages: {}, statuses: {}, languages: [], max_speakers: 1 };
export const STAGE = {};
export const STATUS = {};

export async function loadCatalog() {
  Object.assign(catalog, await json("/v1/catalog"));
  Object.assign(STAGE, catalog.stages);
  Object.assign(STATUS, catalog.statuses);
  return catalog;
}

// The stages in the order they run, "done" last.
export function stageOrder() {
  return Object.values(STAGE);
}

// Whether a job in this status still moves (the page keeps polling it).
export function moving(status) {
  return status === STATUS.QUEUED || status === STATUS.RUNNING;
}

// The page's words for a stage; a stage it has no word for shows as the server names it.
const STAGE_WORDS = { align: "align words", diarize: "find speakers", assign: "assign words" };

export function stageName(stage) {
  return STAGE_WORDS[stage] || stage;
}

// "english" -> "English", as a menu shows a language.
export function languageName(language) {
  return language.name.charAt(0).toUpperCase() + language.name.slice(1);
}
