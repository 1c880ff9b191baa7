// The speakers panel: colour, talk time, rename, merge, and "this voice is …" (enrol the
// job's speaker into the voice library).
import { call } from "./api.js";
import { clock, el } from "./format.js";

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
      if (name && name !== speaker) actions.edit([{ op: "rename", speaker, name }]);
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
    onclick: async () => {
      const suggestion = /^SPEAKER_\d+$/.test(speaker) ? "" : speaker;
      const name = (window.prompt(`This voice is …`, suggestion) || "").trim();
      if (!name) return;
      const form = new FormData();
      form.append("name", name);
      form.append("job_id", jobId);
      form.append("speaker", speaker);
      try {
        await call("/v1/speakers", { method: "POST", body: form });
        actions.say(`Saved the voice of ${speaker} as “${name}”.`);
        actions.voicesChanged();
      } catch (error) {
        actions.say(`Could not save the voice: ${error.message}`, true);
      }
    },
  }, "This voice is …");
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
}
