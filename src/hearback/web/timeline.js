// The speaker timeline: one lane per speaker from the diarization's turns (or the segments
// when there are none), a playhead, a click plays from there.
import { el } from "./format.js";

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
  if (!head || !track || !track.offsetWidth) return;
  const lanes = head.parentElement.getBoundingClientRect();
  const box = track.getBoundingClientRect();
  head.style.left = `${box.left - lanes.left + (box.width * time) / (doc.duration || 1)}px`;
}
