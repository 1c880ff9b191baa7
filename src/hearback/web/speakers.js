// The speakers panel, folded under one line that names each speaker with colour and talk
// time: opened, the timeline and per speaker rename, merge and "This voice is …" (a dialog
// that enrols the job's speaker into the voice library, voicedialog.js).
import { clock, el } from "./format.js";
import { askVoice } from "./voicedialog.js";

const SUMMARY_MAX = 6; // speakers named in the folded line; the rest are counted

// Seconds each speaker talks, from the segments they are given (what the transcript shows).
export function talkTime(doc) {
  const time = new Map(doc.speakers.map((name) => [name, 0]));
  for (const segment of doc.transcription.segments) {
    if (segment.speaker != null) time.set(segment.speaker, (time.get(segment.speaker) || 0) + segment.end - segment.start);
  }
  return time;
}

function identityOf(doc, speaker) {
  return (doc.speaker_identities || []).find((identity) => identity.speaker === speaker && identity.name);
}

function renameForm(speaker, actions) {
  const input = el("input", { type: "text", value: speaker, className: "rename-input",
                              ariaLabel: `New name for ${speaker}` });
  return el("form", {
    className: "rename", onsubmit: (event) => {
      event.preventDefault();
      const name = input.value.trim();
      if (name && name !== speaker) {
        actions.edit([{ op: "rename", speaker, name }], { typed: name, reopen: () => {
          const box = document.querySelector(`#speakers .speaker[data-speaker="${CSS.escape(speaker)}"] .rename-input`);
          if (box) { box.value = input.value; box.focus(); }
          return Boolean(box);
        } });
      }
    },
  }, input, el("button", { type: "submit" }, "Rename"));
}

function mergeMenu(speaker, others, actions) {
  const menu = el("select", { className: "merge", ariaLabel: `Merge ${speaker} into` },
    el("option", { value: "" }, "merge into…"),
    ...others.map((name) => el("option", { value: name }, name)));
  menu.addEventListener("change", () => {
    if (menu.value) actions.edit([{ op: "merge", speakers: [menu.value, speaker] }]);
  });
  return menu;
}

function enrolButton(speaker, jobId, actions) {
  return el("button", {
    type: "button", className: "enrol", title: "Save this voice to the library, to recognise it in later recordings",
    onclick: () => askVoice(speaker, jobId, actions),
  }, "This voice is …");
}

function summary(doc, colours, time) {
  const shown = doc.speakers.slice(0, SUMMARY_MAX).map((speaker) =>
    el("span", { className: "chip", style: { "--c": colours.get(speaker) } },
      el("span", { className: "swatch" }), ` ${speaker} `, el("span", { className: "talk" }, clock(time.get(speaker) || 0))));
  const more = doc.speakers.length - shown.length;
  return more > 0 ? [...shown, el("span", { className: "chip" }, `+${more} more`)] : shown;
}

export function renderSpeakers(doc, colours, jobId, actions) {
  const time = talkTime(doc);
  const total = [...time.values()].reduce((a, b) => a + b, 0) || 1;
  const rows = doc.speakers.map((speaker) => {
    const seconds = time.get(speaker) || 0;
    const identity = identityOf(doc, speaker);
    const others = doc.speakers.filter((name) => name !== speaker);
    return el("li", { className: "speaker", dataset: { speaker }, style: { "--c": colours.get(speaker) } },
      el("div", { className: "speaker-head" },
        el("span", { className: "swatch" }),
        el("strong", { className: "speaker-name" }, speaker),
        el("span", { className: "talk" }, `${clock(seconds)} · ${Math.round((100 * seconds) / total)}%`),
        identity ? el("span", { className: "muted" }, ` recognised as ${identity.name}`) : null),
      el("div", { className: "meter" }, el("span", { style: { width: `${(100 * seconds) / total}%` } })),
      el("div", { className: "speaker-tools" }, renameForm(speaker, actions),
        others.length ? mergeMenu(speaker, others, actions) : null, enrolButton(speaker, jobId, actions)));
  });
  document.getElementById("speakers").replaceChildren(...rows);
  document.getElementById("speaker-summary").replaceChildren(...summary(doc, colours, time));
}
