// The transcript: turns (runs of segments by one speaker) with name, colour and time; one
// span per word carrying its times; the spoken word highlighted; the speaker timeline.
import { clock, el } from "./format.js";

const NEW_SPEAKER = "\u0000new"; // the "new speaker…" choice of a speaker menu

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
  const menu = el("select", { className },
    ...speakers.map((name) => el("option", { value: name, selected: name === selected }, name)),
    el("option", { value: NEW_SPEAKER }, "new…"));
  return menu;
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
  const span = el("span", { className: "seg", dataset: { seg: index } });
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
  menu.setAttribute("aria-label", "Speaker of this turn");
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
    el("span", { className: "swatch" }), menu,
    el("button", { type: "button", className: "time", title: "Play from here",
                   onclick: () => actions.seek(first.start, true) }, clock(first.start)),
    el("button", { type: "button", className: "edit-turn", onclick: () => editTurn(turn, doc, text, actions) },
      "Edit text"));
  return el("section", { className: "turn", dataset: { speaker: turn.speaker ?? "" },
                         style: { "--c": colours.get(turn.speaker) || "#4d5560" } }, head, text);
}

// Replaces a turn's text by one box per segment; Save sends the changed ones as one step.
function editTurn(turn, doc, text, actions) {
  const boxes = turn.segments.map((index) => el("textarea", {
    className: "turn-box", value: doc.transcription.segments[index].text.trim(), rows: 2,
    dataset: { seg: index },
  }));
  const save = el("button", { type: "button", className: "save" }, "Save");
  const cancel = el("button", { type: "button" }, "Cancel");
  const form = el("div", { className: "turn-edit" }, ...boxes, el("div", {}, save, " ", cancel));
  text.replaceWith(form);
  boxes[0].focus();
  cancel.onclick = () => form.replaceWith(text);
  save.onclick = () => {
    const ops = boxes.reverse() // last first: emptied text deletes its segment, moving the ones after
      .filter((box) => box.value.trim() !== doc.transcription.segments[+box.dataset.seg].text.trim())
      .map((box) => ({ op: "edit", segment: +box.dataset.seg, text: box.value.trim() }));
    if (ops.length) actions.edit(ops);
    else form.replaceWith(text);
  };
}

// Double-click on a word: a small box in its place; Enter saves, Escape leaves it.
export function editWord(span, actions) {
  const box = el("input", { type: "text", className: "word-box", value: span.textContent,
                            size: Math.max(4, span.textContent.length + 2) });
  span.replaceWith(box);
  box.focus();
  box.select();
  let finished = false;
  const finish = (keep) => {
    if (finished) return;
    finished = true;
    const text = box.value.trim();
    if (keep && text !== span.textContent) { // an emptied word is deleted
      actions.edit([{ op: "edit", segment: +span.dataset.seg, words: [+span.dataset.w, +span.dataset.w + 1], text }]);
    }
    box.replaceWith(span);
  };
  box.addEventListener("keydown", (event) => {
    if (event.key === "Enter") finish(true);
    if (event.key === "Escape") finish(false);
  });
  box.addEventListener("blur", () => finish(false));
}

export function renderTranscript(doc, colours, actions) {
  const root = document.getElementById("transcript");
  const turns = turnsOf(doc.transcription.segments);
  root.replaceChildren(...turns.map((turn) => turnBlock(turn, doc, colours, actions)));
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

// One lane per speaker from the diarization's turns (or the segments when there are none).
export function renderTimeline(doc, colours, seek) {
  const root = document.getElementById("timeline");
  const duration = doc.duration || 1;
  const spans = doc.turns && doc.turns.length ? doc.turns : doc.transcription.segments;
  const lanes = doc.speakers.map((speaker) => {
    const track = el("div", { className: "track" },
      ...spans.filter((span) => span.speaker === speaker).map((span) => el("span", {
        className: "block", style: {
          left: `${(100 * span.start) / duration}%`,
          width: `${Math.max(0.2, (100 * (span.end - span.start)) / duration)}%`,
          background: colours.get(speaker),
        },
      })));
    return el("div", { className: "lane", dataset: { speaker } },
      el("span", { className: "lane-name", title: speaker }, speaker), track);
  });
  const head = el("div", { className: "playhead", id: "playhead" });
  const area = el("div", { className: "lanes" }, ...lanes, head);
  area.addEventListener("click", (event) => {
    const track = area.querySelector(".track");
    const box = track.getBoundingClientRect();
    const fraction = (event.clientX - box.left) / box.width;
    if (fraction >= 0 && fraction <= 1) seek(fraction * duration, true);
  });
  root.replaceChildren(area);
}

export function movePlayhead(doc, time) {
  const head = document.getElementById("playhead");
  const track = document.querySelector("#timeline .track");
  if (!head || !track) return;
  const lanes = head.parentElement.getBoundingClientRect();
  const box = track.getBoundingClientRect();
  head.style.left = `${box.left - lanes.left + (box.width * time) / (doc.duration || 1)}px`;
}
