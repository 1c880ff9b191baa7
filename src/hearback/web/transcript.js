// The transcript: turns (runs of segments by one speaker) with a speaker menu, colour and
// time; one span per word carrying its times; a click plays from a word, a double-click
// corrects it (without playing); words selected (mouse, keys or touch) within one segment can
// be moved to another speaker or replaced.
import { clock, el } from "./format.js";

const NEW_SPEAKER = "\u0000new"; // the "new speaker…" choice of a speaker menu
const DOUBLE_CLICK_MS = 250; // a click plays only once it is known not to start a double-click

// Consecutive segments of one speaker, as [{speaker, segments: [index, ...]}].
export function turnsOf(segments) {
  const turns = [];
  segments.forEach((segment, index) => {
    const last = turns[turns.length - 1];
    if (last && last.speaker === segment.speaker) last.segments.push(index);
    else turns.push({ speaker: segment.speaker, segments: [index] });
  });
  return turns;
}

export function speakerMenu(speakers, selected, className) {
  return el("select", { className },
    ...speakers.map((name) => el("option", { value: name, selected: name === selected }, name)),
    el("option", { value: NEW_SPEAKER }, "new speaker…"));
}

// The speaker a menu names: its value, or a name asked for when it says "new speaker…".
export function chosenSpeaker(menu) {
  if (menu.value !== NEW_SPEAKER) return menu.value;
  const name = (window.prompt("Name of the new speaker") || "").trim();
  return name || null;
}

// Below this probability Whisper was unsure of a word: it is underlined, to be checked first.
const UNSURE = 0.5;

function wordSpan(word, segment, index) {
  const unsure = word.probability != null && word.probability < UNSURE;
  return el("span", {
    className: unsure ? "w unsure" : "w", textContent: word.word.trim(), tabIndex: -1,
    title: unsure ? `unsure (${Math.round(word.probability * 100)}%)` : "",
    dataset: { seg: segment, w: index, start: word.start, end: word.end },
  });
}

function segmentSpan(segment, index) {
  const span = el("span", { className: "seg", dataset: { seg: index, start: segment.start, end: segment.end } });
  if (!segment.words.length) span.append(segment.text.trim());
  segment.words.forEach((word, w) => {
    if (w) span.append(" ");
    span.append(wordSpan(word, index, w));
  });
  return span;
}

function turnBlock(turn, doc, colours, actions) {
  const first = doc.transcription.segments[turn.segments[0]];
  const menu = speakerMenu(doc.speakers, turn.speaker, "turn-speaker");
  menu.setAttribute("aria-label", `Speaker of this turn (${turn.speaker}): change it`);
  menu.title = "Give this turn to another speaker";
  menu.addEventListener("change", () => {
    const speaker = chosenSpeaker(menu);
    if (!speaker) { menu.value = turn.speaker; return; }
    // ops of a batch see the document as the ops before them left it: last segment first
    actions.edit([...turn.segments].reverse().map((segment) => ({ op: "assign", segment, speaker })));
  });
  const text = el("p", { className: "turn-text" });
  turn.segments.forEach((index, i) => {
    if (i) text.append(" ");
    text.append(segmentSpan(doc.transcription.segments[index], index));
  });
  const head = el("div", { className: "turn-head" },
    el("span", { className: "who" }, el("span", { className: "swatch" }), menu),
    el("button", { type: "button", className: "time", title: "Play from here",
                   onclick: () => actions.seek(first.start, true) }, clock(first.start)),
    el("button", { type: "button", className: "edit-turn", onclick: () => editTurn(turn, doc, text, actions) },
      "Edit text"));
  return el("section", { className: "turn", dataset: { speaker: turn.speaker ?? "", segments: turn.segments.join(",") },
                         style: { "--c": colours.get(turn.speaker) || "#4d5560" } }, head, text);
}

// Replaces a turn's text by one box per segment; Save sends the changed ones as one step.
// `typed`: segment index -> text to put in its box (what a refused save kept).
function editTurn(turn, doc, text, actions, typed = new Map()) {
  const boxes = turn.segments.map((index) => el("textarea", {
    className: "turn-box", value: typed.get(index) ?? doc.transcription.segments[index].text.trim(), rows: 2,
    dataset: { seg: index },
  }));
  const save = el("button", { type: "button", className: "save" }, "Save");
  const cancel = el("button", { type: "button" }, "Cancel");
  const form = el("div", { className: "turn-edit" }, ...boxes, el("div", {}, save, " ", cancel));
  text.replaceWith(form);
  boxes[0].focus();
  cancel.onclick = () => form.replaceWith(text);
  save.onclick = () => {
    const changed = [...boxes].reverse() // last first: emptied text deletes its segment, moving the ones after
      .filter((box) => box.value.trim() !== doc.transcription.segments[+box.dataset.seg].text.trim());
    if (!changed.length) { form.replaceWith(text); return; }
    const kept = changed.map((box) => ({ ...segmentIdentity(text, +box.dataset.seg), typed: box.value }));
    actions.edit(changed.map((box) => ({ op: "edit", segment: +box.dataset.seg, text: box.value.trim() })),
      { typed: kept.map((entry) => entry.typed).join(" / "), reopen: () => reopenTurn(kept) });
  };
}

// What names a segment whatever its index: its times and its words as shown.
function segmentIdentity(root, index) {
  const span = root.querySelector(`.seg[data-seg="${index}"]`);
  return { start: span.dataset.start, end: span.dataset.end, shown: span.textContent };
}

// After a refused save (the document may have moved on): the turn holding those segments, found
// by their times and words, opens again with the text typed; false when they are gone.
function reopenTurn(kept) {
  const typed = new Map();
  for (const entry of kept) {
    const span = [...document.querySelectorAll("#transcript .seg")].find((node) => node.dataset.start === entry.start
      && node.dataset.end === entry.end && node.textContent === entry.shown);
    if (span) typed.set(+span.dataset.seg, entry.typed);
  }
  const [first] = typed.keys();
  const block = first === undefined ? null : [...document.querySelectorAll("#transcript .turn")]
    .find((node) => node.dataset.segments.split(",").map(Number).includes(first));
  if (block) block.querySelector(".edit-turn").dispatchEvent(new CustomEvent("reopen", { detail: typed }));
  return Boolean(block);
}

// Double-click on a word: a small box in its place; Enter saves, Escape leaves it.
export function editWord(span, actions, typed = null) {
  const box = el("input", { type: "text", className: "word-box", value: typed ?? span.textContent,
                            size: Math.max(4, (typed ?? span.textContent).length + 2),
                            ariaLabel: `Correct “${span.textContent}”` });
  span.replaceWith(box);
  box.focus();
  box.select();
  let finished = false;
  const finish = (keep) => {
    if (finished) return;
    finished = true;
    const text = box.value.trim();
    const [segment, w] = [+span.dataset.seg, +span.dataset.w];
    if (keep && text !== span.textContent) { // an emptied word is deleted
      const word = { start: span.dataset.start, end: span.dataset.end, shown: span.textContent };
      actions.edit([{ op: "edit", segment, words: [w, w + 1], text }],
        { typed: box.value, reopen: () => reopenWord(word, box.value, actions) });
    }
    box.replaceWith(span);
  };
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter") finish(true);
    if (event.key === "Escape") finish(false);
  });
  box.addEventListener("blur", () => finish(false));
}

// After a refused save: the box opens again on the same word (found by its times and text,
// whatever its index now) with what was typed; false when the word is gone.
function reopenWord(word, typed, actions) {
  const span = [...document.querySelectorAll("#transcript .w")].find((node) => node.dataset.start === word.start
    && node.dataset.end === word.end && node.textContent === word.shown);
  if (span) editWord(span, actions, typed);
  return Boolean(span);
}

export function renderTranscript(doc, colours, actions) {
  const root = document.getElementById("transcript");
  const turns = turnsOf(doc.transcription.segments);
  root.replaceChildren(...turns.map((turn) => {
    const block = turnBlock(turn, doc, colours, actions);
    block.querySelector(".edit-turn").addEventListener("reopen", (event) =>
      editTurn(turn, doc, block.querySelector(".turn-text"), actions, event.detail));
    return block;
  }));
  if (!turns.length) root.append(el("p", { className: "muted" }, "No speech was found."));
  return [...root.querySelectorAll(".w")].map((node) => ({
    start: +node.dataset.start, end: +node.dataset.end, node,
  }));
}

// The word being spoken at `time`: the last one that started, while it lasts (or until the
// next starts); -1 between words and before the first.
export function wordAt(words, time) {
  let low = 0;
  let high = words.length - 1;
  let found = -1;
  while (low <= high) {
    const mid = (low + high) >> 1;
    if (words[mid].start <= time) { found = mid; low = mid + 1; } else high = mid - 1;
  }
  if (found < 0) return -1;
  const next = words[found + 1];
  return time < words[found].end || (next && time < next.start && time - words[found].end < 0.5) ? found : -1;
}

// Words selected inside one segment: {segment, words: [first, end), text}, or null.
function selectedWords() {
  const selection = window.getSelection();
  if (!selection || selection.isCollapsed || !selection.rangeCount) return null;
  const root = document.getElementById("transcript");
  if (!root.contains(selection.getRangeAt(0).commonAncestorContainer)) return null;
  const spans = [...root.querySelectorAll(".w")].filter((node) => selection.containsNode(node, true));
  if (!spans.length || spans.some((node) => node.dataset.seg !== spans[0].dataset.seg)) return undefined;
  return { segment: +spans[0].dataset.seg, words: [+spans[0].dataset.w, +spans[spans.length - 1].dataset.w + 1],
           text: spans.map((node) => node.textContent).join(" ") };
}

let picked = null;

export function hideSelection() {
  picked = null;
  document.getElementById("selection-bar").hidden = true;
  document.getElementById("selection-replace").value = "";
}

// On every change of the selection (mouse, keys, a finger's long press and handles): the bar
// for the words selected, hidden again when the selection goes (unless the bar is in use).
function selectionChanged(actions) {
  const bar = document.getElementById("selection-bar");
  const found = selectedWords();
  if (found) {
    picked = found;
    document.getElementById("selection-text").textContent = `“${found.text}”`;
    bar.hidden = false;
  } else if (found === undefined) {
    actions.say("To move or replace words, select them within one sentence.");
  } else if (!bar.hidden && !bar.contains(document.activeElement) && window.getSelection().isCollapsed) {
    hideSelection();
  }
}

function applySelection(actions) {
  if (!picked) return;
  const replace = document.getElementById("selection-replace").value.trim();
  if (replace) {
    actions.edit([{ op: "edit", segment: picked.segment, words: picked.words, text: replace }], { typed: replace });
  } else {
    const speaker = chosenSpeaker(document.getElementById("selection-speaker"));
    if (speaker) actions.edit([{ op: "assign", segment: picked.segment, words: picked.words, speaker }]);
  }
}

export function setupTranscript(actions) {
  const root = document.getElementById("transcript");
  let pending = null; // the play a click asked for, until it is known not to be a double-click
  let played = null; // where the player was before a click's play (slow clicks of a double-click)
  root.addEventListener("click", (event) => {
    clearTimeout(pending);
    const word = event.target.closest(".w");
    if (!word || event.detail > 1 || !window.getSelection().isCollapsed) return;
    const player = document.getElementById("audio");
    const before = { time: player.currentTime, paused: player.paused };
    played = null;
    pending = setTimeout(() => { played = before; actions.seek(+word.dataset.start, true); }, DOUBLE_CLICK_MS);
  });
  root.addEventListener("dblclick", (event) => {
    clearTimeout(pending);
    const word = event.target.closest(".w");
    if (!word) return;
    const player = document.getElementById("audio");
    player.pause();
    if (played && played.paused) actions.seek(played.time, false); // it did play: put it back
    played = null;
    window.getSelection().removeAllRanges();
    editWord(word, actions);
  });
  let timer = null;
  document.addEventListener("selectionchange", () => {
    clearTimeout(timer);
    timer = setTimeout(() => selectionChanged(actions), 120);
  });
  document.getElementById("selection-apply").addEventListener("click", () => applySelection(actions));
}
