// Find and replace across the transcript. A match is found in a segment's words as the page
// shows them (joined by single spaces, case ignored) and may span words; its words are
// marked, the current one scrolled into view. Replace (this match) and Replace all are each
// ONE change: one POST /edits batch of `edit` ops on the words each match covers, so one
// Undo takes all of it back.
const $ = (id) => document.getElementById(id);
const MAX_OPS = 1000; // the most ops one edits batch may hold

let doc = null;
let matches = []; // [{segment, start, end}] character offsets in the segment's joined words
let index = -1;

function escape(text) {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

// A segment's words as shown, joined, with where each word starts and ends.
function wordsOf(segment) {
  const texts = segment.words.length ? segment.words.map((word) => word.word.trim()) : [segment.text.trim()];
  const starts = [];
  let at = 0;
  for (const text of texts) { starts.push(at); at += text.length + 1; }
  return { texts, starts, joined: texts.join(" ") };
}

function findAll(query) {
  if (!doc || !query) return [];
  const pattern = new RegExp(escape(query), "giu");
  const found = [];
  doc.transcription.segments.forEach((segment, s) => {
    for (const hit of wordsOf(segment).joined.matchAll(pattern)) {
      found.push({ segment: s, start: hit.index, end: hit.index + hit[0].length });
    }
  });
  return found;
}

// The word indexes [first, last] a character range of a segment covers.
function wordRange(words, start, end) {
  let first = 0;
  while (first + 1 < words.starts.length && words.starts[first + 1] <= start) first++;
  let last = first;
  while (last + 1 < words.starts.length && words.starts[last + 1] < end) last++;
  return [first, last];
}

// The ops that replace `chosen` matches by `text`: matches sharing words become one op;
// segments and word ranges last first, so an op never moves the indexes of the ops after it.
export function replaceOps(segments, chosen, text) {
  const bySegment = new Map();
  for (const match of chosen) {
    if (!bySegment.has(match.segment)) bySegment.set(match.segment, []);
    bySegment.get(match.segment).push(match);
  }
  const ops = [];
  for (const s of [...bySegment.keys()].sort((a, b) => b - a)) {
    const segment = segments[s];
    const words = wordsOf(segment);
    const groups = [];
    for (const match of bySegment.get(s).sort((a, b) => a.start - b.start)) {
      const [first, last] = wordRange(words, match.start, match.end);
      const group = groups[groups.length - 1];
      if (group && first <= group.last) { group.last = Math.max(group.last, last); group.matches.push(match); }
      else groups.push({ first, last, matches: [match] });
    }
    for (const group of groups.reverse()) {
      const from = words.starts[group.first];
      const to = words.starts[group.last] + words.texts[group.last].length;
      let out = "";
      let at = from;
      for (const match of group.matches) { out += words.joined.slice(at, match.start) + text; at = match.end; }
      out += words.joined.slice(at, to);
      if (out === words.joined.slice(from, to)) continue; // the same text: nothing to change
      ops.push(segment.words.length ? { op: "edit", segment: s, words: [group.first, group.last + 1], text: out.trim() }
                                    : { op: "edit", segment: s, text: out.trim() });
    }
  }
  return ops;
}

function mark() {
  for (const node of document.querySelectorAll("#transcript .hit")) node.classList.remove("hit", "hit-now");
  matches.forEach((match, i) => {
    const words = wordsOf(doc.transcription.segments[match.segment]);
    const [first, last] = wordRange(words, match.start, match.end);
    for (let w = first; w <= last; w++) {
      const node = document.querySelector(`#transcript .w[data-seg="${match.segment}"][data-w="${w}"]`)
        || document.querySelector(`#transcript .seg[data-seg="${match.segment}"]`);
      if (node) node.classList.add("hit", ...(i === index ? ["hit-now"] : []));
    }
  });
  const query = $("find-input").value;
  $("find-count").textContent = !query ? "" : matches.length ? `${index + 1} of ${matches.length}` : "not found";
  document.querySelector("#transcript .hit-now")?.scrollIntoView({ block: "center" });
}

function search() {
  matches = findAll($("find-input").value);
  index = matches.length ? Math.min(Math.max(index, 0), matches.length - 1) : -1;
  mark();
}

function step(by) {
  if (!matches.length) return;
  index = (index + by + matches.length) % matches.length;
  mark();
}

// Called with each document the page shows: the marks follow the new text.
export function findShown(newDoc) {
  doc = newDoc;
  if (!$("find-bar").hidden) search();
}

export function openFind() {
  const bar = $("find-bar");
  bar.hidden = false;
  const selected = String(window.getSelection() || "").trim();
  if (selected && !selected.includes("\n")) $("find-input").value = selected;
  $("find-input").focus();
  $("find-input").select();
  search();
}

export function closeFind() {
  $("find-bar").hidden = true;
  matches = [];
  index = -1;
  mark();
}

function replace(actions, all) {
  if (!matches.length) return;
  const chosen = all ? matches : [matches[index]];
  const text = $("replace-input").value;
  const ops = replaceOps(doc.transcription.segments, chosen, text);
  if (!ops.length) { actions.say("Nothing to change: the text is already that."); return; }
  if (ops.length > MAX_OPS) { actions.say(`Too many at once (${ops.length}); replace at most ${MAX_OPS}.`, true); return; }
  const count = chosen.length;
  actions.edit(ops, { typed: text, reopen: () => !$("find-bar").hidden, // the boxes keep their text
                      done: `Replaced ${count} ${count === 1 ? "match" : "matches"}.` });
}

export function setupFind(actions) {
  $("find-open").addEventListener("click", openFind);
  $("find-close").addEventListener("click", closeFind);
  $("find-input").addEventListener("input", () => { index = 0; search(); });
  $("find-bar").addEventListener("submit", (event) => { event.preventDefault(); step(1); });
  $("find-input").addEventListener("keydown", (event) => {
    if (event.key === "Enter" && event.shiftKey) { event.preventDefault(); step(-1); }
  });
  $("find-prev").addEventListener("click", () => step(-1));
  $("replace-one").addEventListener("click", () => replace(actions, false));
  $("replace-all").addEventListener("click", () => replace(actions, true));
}
