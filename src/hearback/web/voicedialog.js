// "This voice is …": a dialog that names a job's speaker and saves its voice to the library
// (POST /v1/speakers with name, job_id, speaker). It lists the voices already there and says,
// as soon as the name typed is one of them, what saving does to that voice: the server keeps a
// voice of that name unless asked to replace it (replace=true, sent only after the page said so;
// else 409 voice_exists).
import { call } from "./api.js";
import { dateOf, el } from "./format.js";
import { libraryVoices } from "./jobs.js";

const $ = (id) => document.getElementById(id);
let current = null; // {speaker, jobId, actions, voices} while the dialog is open

// What saving under `name` does to the library's voice of that name (the server's rule).
function sameName(voice) {
  return `“${voice.name}” is already in the library (saved ${dateOf(voice.created)}). Replacing it deletes `
    + `that voice for good and keeps this speaker’s under the name “${voice.name}”: later recordings `
    + "name this speaker, not the person saved before. To keep both, choose another name.";
}

// The library's voice named as typed, if any: the note says what saving does to it.
function showSame() {
  const name = $("voice-name").value.trim().normalize("NFC");
  const voice = current && current.voices.find((entry) => entry.name.normalize("NFC") === name);
  $("voice-same").hidden = !voice;
  $("voice-same").textContent = voice ? sameName(voice) : "";
  $("voice-save").textContent = voice ? "Replace the voice" : "Save the voice";
  return voice;
}

function voiceItem(voice) {
  return el("li", {}, el("button", {
    type: "button", className: "voice-pick", title: `Use the name ${voice.name}`,
    onclick: () => { $("voice-name").value = voice.name; showSame(); $("voice-name").focus(); },
  }, voice.name), el("span", { className: "muted" }, ` saved ${dateOf(voice.created)}`));
}

export async function askVoice(speaker, jobId, actions) {
  const voices = await libraryVoices();
  current = { speaker, jobId, actions, voices };
  $("voice-about").textContent = `Name the voice of ${speaker}: it is saved to this server's voice library, `
    + "and later recordings name this person where they recognise the voice. No audio is kept.";
  $("voice-name").value = /^SPEAKER_\d+$/.test(speaker) ? "" : speaker;
  $("voice-known").replaceChildren(...voices.map((voice) => el("option", { value: voice.name })));
  $("voice-list").replaceChildren(...voices.map(voiceItem));
  $("voice-library").hidden = !voices.length;
  $("voice-error").textContent = "";
  showSame();
  $("voice-dialog").showModal();
  $("voice-name").focus();
}

async function save(event) {
  event.preventDefault();
  const name = $("voice-name").value.trim();
  if (!name || !current) return;
  const { speaker, jobId, actions } = current;
  const form = new FormData();
  form.append("name", name);
  form.append("job_id", jobId);
  form.append("speaker", speaker);
  const replacing = showSame();
  if (replacing) form.append("replace", "true"); // the note said so before the click
  $("voice-save").disabled = true;
  try {
    await call("/v1/speakers", { method: "POST", body: form });
    $("voice-dialog").close();
    actions.say(replacing ? `Replaced the voice “${name}” with the voice of ${speaker}.`
                          : `Saved the voice of ${speaker} as “${name}”.`);
    actions.voicesChanged();
  } catch (error) {
    if (error.code === "voice_exists" && current) { // saved meanwhile, elsewhere: say what saving now does
      current.voices = await libraryVoices();
      $("voice-list").replaceChildren(...current.voices.map(voiceItem));
      $("voice-library").hidden = false;
      showSame();
    }
    $("voice-error").textContent = `Not saved: ${error.message}`;
  } finally {
    $("voice-save").disabled = false;
  }
}

export function setupVoiceDialog() {
  $("voice-form").addEventListener("submit", save);
  $("voice-name").addEventListener("input", showSame);
  $("voice-cancel").addEventListener("click", () => $("voice-dialog").close());
  $("voice-dialog").addEventListener("close", () => { current = null; });
}
