// Small shared helpers: time formats, speaker colours, element building.

// Colours for speakers, in order of first appearance; each is dark enough for white text
// (contrast >= 4.5:1) and they stay apart for common colour blindness.
export const COLOURS = ["#1f5fa8", "#b3401a", "#207245", "#7a3d9c", "#8a6100", "#0e6f78",
                        "#a3245e", "#4d5560"];

export function colourMap(speakers) {
  const map = new Map();
  speakers.forEach((name, index) => map.set(name, COLOURS[index % COLOURS.length]));
  return map;
}

export function clock(seconds) {
  if (seconds == null || Number.isNaN(seconds)) return "–";
  const whole = Math.floor(seconds);
  const h = Math.floor(whole / 3600);
  const m = Math.floor((whole % 3600) / 60);
  const s = String(whole % 60).padStart(2, "0");
  return h ? `${h}:${String(m).padStart(2, "0")}:${s}` : `${m}:${s}`;
}

export function dateOf(epochSeconds) {
  return new Date(epochSeconds * 1000).toLocaleString([], {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  });
}

// el("li", {className: "x", onclick: f}, child, "text", ...): one element, its properties, children.
export function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === "dataset") Object.assign(node.dataset, value);
    else if (key === "style") {
      for (const [name, v] of Object.entries(value)) node.style.setProperty(name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`), v);
    }
    else node[key] = value;
  }
  for (const child of children) {
    if (child != null) node.append(child);
  }
  return node;
}
