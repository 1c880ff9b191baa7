"""The editor page (``GET /``, ``hearback/web``) in a real browser: Debian's chromium, driven
by selenium through chromedriver, over real HTTP against a real ``hearback serve`` running
Whisper tiny.en and the embedded diarizer on the pyannote sample. One job, made by the page
itself, is shared by the tests of this module; they run in file order (each builds on the
last). The server has an API key, so every test also goes through the page's key question.
"""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.httpserver import hearback_server
from tests.pagedriver import require_chromium

pytestmark = pytest.mark.slow  # a browser and a server per module: `make test-fast` leaves them out

require_chromium()

from selenium import webdriver  # noqa: E402  (only once chromium is known to be there)
from selenium.common.exceptions import TimeoutException  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select, WebDriverWait  # noqa: E402

from tests.pagedriver import (  # noqa: E402
    CONTRAST_JS, KEY, api, audio_ready, document, download, downloaded, give_key, open_speakers,
    page_ready, reload, rename, revision, saved, seek_by_click, speakers_shown, turn_speakers, wait)
from tests.pagedriver import browser, downloads, job, server  # noqa: E402, F401  (the module's fixtures)


def test_the_page_is_public_and_its_files_only(server):
    page = requests.get(server + "/", timeout=10)
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    assert "Hearback" in page.text and "http" not in page.text.replace("https://…", "")  # nothing from the network
    script = requests.get(server + "/web/main.js", timeout=10)
    assert script.status_code == 200 and script.headers["content-type"].startswith("text/javascript")
    assert "default-src 'self'" in page.headers["content-security-policy"]
    for path in ("/web/nothing.js", "/web/..%2Fapi%2Fapp.py", "/web/%2e%2e%2F__init__.py"):
        assert requests.get(server + path, timeout=10).status_code == 404, path
    assert requests.get(server + "/v1/jobs/x", timeout=10).json()["error"]["code"] == "invalid_api_key"


def test_a_dropped_recording_becomes_a_transcript(browser, server, job):
    assert job["stages"][-1] == "done"
    assert len(job["boxes"] - {None}) == 1, job["boxes"]  # nothing moved while the job ran
    assert "transcribe" in job["stages"] or "diarize" in job["stages"], job["stages"]  # progress was followed
    assert browser.find_element(By.CSS_SELECTOR, ".bar").get_attribute("aria-valuenow") == "100"
    assert speakers_shown(browser) == ["SPEAKER_00", "SPEAKER_01"]
    doc = document(server, job["id"])
    words = browser.find_elements(By.CSS_SELECTOR, "#transcript .w")
    assert len(words) == sum(len(s["words"]) for s in doc["transcription"]["segments"]) > 20
    assert len(browser.find_elements(By.CSS_SELECTOR, "#timeline .lane")) == 2
    summary = browser.find_element(By.ID, "speaker-summary").text  # the folded panel's one line names them
    assert "SPEAKER_00" in summary and "SPEAKER_01" in summary
    for speaker in doc["speakers"]:  # talk time: the sum of the speaker's segments, as m:ss
        seconds = sum(s["end"] - s["start"] for s in doc["transcription"]["segments"] if s["speaker"] == speaker)
        shown = browser.find_element(By.CSS_SELECTOR, f'#speakers .speaker[data-speaker="{speaker}"] .talk').get_attribute("textContent")
        assert shown.startswith(f"{int(seconds) // 60}:{int(seconds) % 60:02d} · "), (speaker, seconds, shown)
    listed = f'#jobs .job[data-id="{job["id"]}"]'
    wait(browser, lambda: "succeeded" in browser.find_element(By.CSS_SELECTOR, listed).text, message="not listed")
    assert "pyannote-sample.wav" in browser.find_element(By.CSS_SELECTOR, listed).text
    assert browser.title == "pyannote-sample.wav – Hearback"


def test_text_is_readable(browser, job):
    """Every kind of text on the page has a contrast of at least 4.5:1 (WCAG AA), the find
    marks and the panels' included."""
    open_speakers(browser)
    browser.find_element(By.ID, "find-open").click()
    browser.find_element(By.ID, "find-input").send_keys("chicago")
    wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#transcript .hit-now"), message="nothing found")
    shown = browser.execute_script(CONTRAST_JS, "body, h2, .muted, .turn-speaker, .time, .edit-turn, .talk, .speaker-name,"
                                   " .job-name, .job-meta, .badge, .stages li, #stage-text, .lane-name, .w, button, label,"
                                   " summary, .chip, .keys, kbd, .hit, .hit-now, legend, .file-name, .file-pick")
    browser.find_element(By.ID, "find-close").click()
    assert len(shown) > 30
    low = [item for item in shown if item[2] < 4.5]
    assert not low, low


def test_a_click_on_a_word_plays_from_its_start(browser, job):
    audio_ready(browser)
    word = browser.find_elements(By.CSS_SELECTOR, "#transcript .w")[25]
    assert abs(seek_by_click(browser, word) - float(word.get_attribute("data-start"))) <= 0.3
    assert not browser.execute_script("return document.getElementById('audio').paused")  # and it plays
    browser.execute_script("document.getElementById('audio').pause()")


def test_the_highlighted_word_follows_playback(browser, job):
    audio_ready(browser)
    browser.find_element(By.CSS_SELECTOR, "#transcript .w").click()  # plays from the first word
    followed = set()
    deadline = time.monotonic() + 6
    while time.monotonic() < deadline:
        now, start, end = browser.execute_script(
            "const w = document.querySelector('#transcript .w.now'); const a = document.getElementById('audio');"
            "return [a.currentTime, w && +w.dataset.start, w && +w.dataset.end]")
        if start is not None:
            assert start - 0.15 <= now <= end + 0.6, (now, start, end)
            followed.add(start)
        time.sleep(0.1)
    browser.execute_script("document.getElementById('audio').pause()")
    assert len(followed) >= 5, followed


def test_the_timeline_seeks_and_the_spoken_word_comes_into_view(browser, server, job):
    browser.set_window_size(1280, 700)
    try:
        reload(browser)
        audio_ready(browser)
        open_speakers(browser)
        browser.execute_script("window.scrollTo(0, 0)")
        duration = document(server, job["id"])["duration"]
        track = browser.find_element(By.CSS_SELECTOR, "#timeline .track")
        width = track.rect["width"]
        at = webdriver.ActionChains(browser).move_to_element_with_offset(track, int((0.9 - 0.5) * width), 0).click()
        now = seek_by_click(browser, click=at.perform)
        assert abs(now - 0.9 * duration) <= duration / width * 2 + 0.1  # two pixels of time
        last = browser.find_elements(By.CSS_SELECTOR, "#transcript .w")[-1]
        assert last.location["y"] > 700  # the end of the transcript starts out of view
        in_view = ("const w = document.querySelector('#transcript .w.now'); if (!w) return false;"  # below the pinned bar
                   "const r = w.getBoundingClientRect(); const p = document.getElementById('pinned').getBoundingClientRect();"
                   "return r.top >= p.bottom && r.bottom <= innerHeight")
        wait(browser, lambda: browser.execute_script(in_view), timeout=10, message="the spoken word stayed out of view")
    finally:
        browser.execute_script("document.getElementById('audio').pause()")
        browser.set_window_size(1280, 1000)


def test_a_rename_reaches_every_download(browser, server, job, downloads):
    assert not browser.find_element(By.ID, "undo").is_enabled()  # nothing to undo yet
    rename(browser, "SPEAKER_00", "Diane")
    wait(browser, lambda: browser.find_element(By.ID, "undo").is_enabled(), message="undo stays off")
    assert speakers_shown(browser) == ["Diane", "SPEAKER_01"]
    for format in ("srt", "vtt", "json"):
        download(browser, format)
        text = downloaded(downloads, f"pyannote-sample.{format}")
        assert "Diane" in text and "SPEAKER_00" not in text, format
    assert json.loads(downloaded(downloads, "pyannote-sample.json"))["speakers"] == ["Diane", "SPEAKER_01"]


def test_move_a_turn_then_undo_persist(browser, server, job):
    reload(browser)
    before_turns = turn_speakers(browser)
    first = browser.find_element(By.CSS_SELECTOR, "#transcript .turn")
    other = "SPEAKER_01" if before_turns[0] == "Diane" else "Diane"
    moved_words = len(first.find_elements(By.CSS_SELECTOR, ".w"))
    before = revision(browser)
    Select(first.find_element(By.CSS_SELECTOR, ".turn-speaker")).select_by_value(other)
    saved(browser, before)
    reload(browser)
    doc = document(server, job["id"])
    assert turn_speakers(browser)[0] == other
    assert all(w["speaker"] == other for w in doc["transcription"]["segments"][0]["words"])
    assert len(browser.find_elements(By.CSS_SELECTOR, "#transcript .turn")[0].find_elements(By.CSS_SELECTOR, ".w")) >= moved_words
    before = revision(browser)
    browser.find_element(By.ID, "undo").click()
    saved(browser, before)
    reload(browser)
    assert turn_speakers(browser) == before_turns


def test_edit_a_word_persists(browser, server, job):
    word = browser.find_elements(By.CSS_SELECTOR, "#transcript .w")[3]
    segment, index = int(word.get_attribute("data-seg")), int(word.get_attribute("data-w"))
    box = None
    for _ in range(3):  # on a loaded machine the two clicks may come too far apart to be a double-click
        webdriver.ActionChains(browser).double_click(word).perform()
        try:
            box = wait(browser, lambda: browser.find_element(By.CSS_SELECTOR, "#transcript .word-box"), timeout=3)
            break
        except TimeoutException:
            continue
    assert box is not None, "a double-click on a word opened no box to correct it"
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys("Hearback")
    before = revision(browser)
    box.send_keys(Keys.ENTER)
    saved(browser, before)
    reload(browser)
    shown = browser.find_element(By.CSS_SELECTOR, f'#transcript .w[data-seg="{segment}"][data-w="{index}"]')
    assert shown.text == "Hearback"
    assert document(server, job["id"])["transcription"]["segments"][segment]["words"][index]["word"].strip() == "Hearback"


def test_edit_a_turns_text_persists_and_undoes(browser, server, job):
    turn = browser.find_elements(By.CSS_SELECTOR, "#transcript .turn")[1]
    turn.find_element(By.CSS_SELECTOR, ".edit-turn").click()
    box = turn.find_element(By.CSS_SELECTOR, "textarea")
    segment = int(box.get_attribute("data-seg"))
    box.clear()
    box.send_keys("Oh, hello there, Sheila.")
    before = revision(browser)
    turn.find_element(By.CSS_SELECTOR, ".save").click()
    saved(browser, before)
    reload(browser)
    edited = document(server, job["id"])["transcription"]["segments"][segment]
    assert edited["text"].strip() == "Oh, hello there, Sheila."
    assert [w["word"].strip() for w in edited["words"]] == ["Oh,", "hello", "there,", "Sheila."]
    assert "Oh, hello there, Sheila." in browser.find_elements(By.CSS_SELECTOR, "#transcript .turn")[1].text
    before = revision(browser)
    browser.find_element(By.ID, "undo").click()
    saved(browser, before)
    reload(browser)
    assert "Oh, hello there, Sheila." not in browser.find_element(By.ID, "transcript").text


def test_move_selected_words_persists(browser, server, job):
    doc = document(server, job["id"])
    segment = max(range(len(doc["transcription"]["segments"])),
                  key=lambda i: len(doc["transcription"]["segments"][i]["words"]))
    owner = doc["transcription"]["segments"][segment]["speaker"]
    other = "SPEAKER_01" if owner == "Diane" else "Diane"
    browser.execute_script("""
        const words = document.querySelectorAll(`#transcript .w[data-seg="${arguments[0]}"]`);
        const range = document.createRange();
        range.setStartBefore(words[1]); range.setEndAfter(words[2]);
        const selection = window.getSelection(); selection.removeAllRanges(); selection.addRange(range);
        document.getElementById('transcript').dispatchEvent(new MouseEvent('mouseup', {bubbles: true}));
    """, segment)
    wait(browser, lambda: browser.find_element(By.ID, "selection-bar").is_displayed())
    Select(browser.find_element(By.ID, "selection-speaker")).select_by_value(other)
    before = revision(browser)
    browser.find_element(By.ID, "selection-apply").click()
    saved(browser, before)
    reload(browser)
    after = document(server, job["id"])["transcription"]["segments"]
    assert len(after) == len(doc["transcription"]["segments"]) + 2  # split in three
    assert after[segment + 1]["speaker"] == other and len(after[segment + 1]["words"]) == 2
    assert [t for t in turn_speakers(browser)].count(other) >= 1


def test_merge_then_ctrl_z_persist(browser, server, job):
    reload(browser)
    open_speakers(browser)
    row = browser.find_element(By.CSS_SELECTOR, '#speakers .speaker[data-speaker="SPEAKER_01"]')
    before = revision(browser)
    Select(row.find_element(By.CSS_SELECTOR, ".merge")).select_by_value("Diane")
    saved(browser, before)
    reload(browser)
    assert speakers_shown(browser) == ["Diane"]
    assert document(server, job["id"])["speakers"] == ["Diane"]
    before = revision(browser)
    browser.find_element(By.TAG_NAME, "body").send_keys(Keys.CONTROL, "z")
    saved(browser, before)
    reload(browser)
    assert speakers_shown(browser) == ["Diane", "SPEAKER_01"]


def test_keys_play_pause_and_skip(browser, job):
    audio_ready(browser)
    browser.execute_script("const a = document.getElementById('audio'); a.pause(); a.currentTime = 10;"
                           "document.activeElement.blur()")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.ARROW_RIGHT)
    assert browser.execute_script("return document.getElementById('audio').currentTime") == pytest.approx(15, abs=0.05)
    body.send_keys(Keys.ARROW_LEFT, Keys.ARROW_LEFT)
    assert browser.execute_script("return document.getElementById('audio').currentTime") == pytest.approx(5, abs=0.05)
    body.send_keys(Keys.SPACE)
    wait(browser, lambda: browser.execute_script("return document.getElementById('audio').currentTime") > 5.3,
         message="space did not play")
    body.send_keys(Keys.SPACE)
    assert browser.execute_script("return document.getElementById('audio').paused")


def test_this_voice_is_enrols_a_speaker(browser, server, job):
    reload(browser)
    assert not browser.find_element(By.ID, "voices").is_displayed()  # the library is empty
    open_speakers(browser)
    browser.find_element(By.CSS_SELECTOR, '#speakers .speaker[data-speaker="Diane"] .enrol').click()
    dialog = browser.find_element(By.ID, "voice-dialog")
    wait(browser, lambda: dialog.get_attribute("open") is not None, message="no dialog")  # a dialog, not window.prompt
    assert not browser.find_element(By.ID, "voice-library").is_displayed()  # nothing to list yet
    name = browser.find_element(By.ID, "voice-name")
    assert name.get_attribute("value") == "Diane"  # a name given by hand is offered
    assert not browser.find_element(By.ID, "voice-same").is_displayed()
    browser.find_element(By.ID, "voice-save").click()
    wait(browser, lambda: "Saved the voice" in browser.find_element(By.ID, "edit-message").text,
         message=browser.find_element(By.ID, "edit-message").text)
    assert dialog.get_attribute("open") is None
    voices = api(server, "/v1/speakers").json()["data"]
    assert [v["name"] for v in voices] == ["Diane"]
    wait(browser, lambda: browser.find_element(By.ID, "voices").is_displayed(), message="no known voices offered")
    boxes = browser.find_elements(By.CSS_SELECTOR, "#voice-choices input[type=checkbox]")
    assert [b.get_attribute("value") for b in boxes] == ["Diane"] and boxes[0].is_selected()
    # the form sends the choice as the API takes it: all ticked -> nothing; none -> use_library=false
    sent = "const done = arguments[0]; import('/web/jobs.js').then((m) => done(m.libraryChoice()))"
    assert browser.execute_async_script(sent) == []
    boxes[0].click()
    assert browser.execute_async_script(sent) == [["use_library", "false"]]
    boxes[0].click()
    # a second voice: the dialog lists the library and says what a name already there does
    browser.find_element(By.CSS_SELECTOR, '#speakers .speaker[data-speaker="SPEAKER_01"] .enrol').click()
    wait(browser, lambda: dialog.get_attribute("open") is not None, message="no dialog")
    assert name.get_attribute("value") == ""  # a label is no name to offer
    assert [n.text for n in browser.find_elements(By.CSS_SELECTOR, "#voice-list .voice-pick")] == ["Diane"]
    browser.find_element(By.CSS_SELECTOR, "#voice-list .voice-pick").click()
    same = browser.find_element(By.ID, "voice-same")
    assert same.is_displayed() and "Diane" in same.text and "deletes that voice" in same.text, same.text
    assert "another name" in same.text
    assert browser.find_element(By.ID, "voice-save").text == "Replace the voice"
    name.send_keys(" Smith")  # another name: no warning
    assert not same.is_displayed() and browser.find_element(By.ID, "voice-save").text == "Save the voice"
    browser.find_element(By.ID, "voice-cancel").click()
    assert dialog.get_attribute("open") is None
    assert api(server, "/v1/speakers").json()["data"] == voices  # cancelled: nothing changed
    # replaced, as the dialog said: one "Diane", the other speaker's voice
    browser.find_element(By.CSS_SELECTOR, '#speakers .speaker[data-speaker="SPEAKER_01"] .enrol').click()
    wait(browser, lambda: dialog.get_attribute("open") is not None, message="no dialog")
    browser.find_element(By.CSS_SELECTOR, "#voice-list .voice-pick").click()
    browser.find_element(By.ID, "voice-save").click()
    wait(browser, lambda: "Replaced the voice" in browser.find_element(By.ID, "edit-message").text,
         message=browser.find_element(By.ID, "voice-error").text)
    replaced = api(server, "/v1/speakers").json()["data"]
    assert [v["name"] for v in replaced] == ["Diane"] and replaced[0]["id"] != voices[0]["id"]


def test_without_the_key_the_page_shows_no_job(browser, server, job):
    assert browser.current_url == f"{server}/#job={job['id']}"
    browser.execute_script("sessionStorage.clear()")
    browser.refresh()
    wait(browser, lambda: browser.find_element(By.ID, "key-form").is_displayed(), message="no key question")
    assert not browser.find_elements(By.CSS_SELECTOR, "#jobs .job")
    assert not browser.find_elements(By.CSS_SELECTOR, "#transcript .w")
    assert "pyannote" not in browser.find_element(By.TAG_NAME, "body").text
    give_key(browser, "wrong-key")
    wait(browser, lambda: "refused" in browser.find_element(By.ID, "key-error").text, message="wrong key taken")
    assert not browser.find_elements(By.CSS_SELECTOR, "#transcript .w")
    browser.find_element(By.ID, "key-input").send_keys(KEY, Keys.ENTER)
    page_ready(browser)
    wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#transcript .w"), message="no transcript with the key")
    assert "key" not in browser.current_url.lower() and not browser.get_cookies()  # in the tab's sessionStorage only


def test_phone_width_does_not_overflow(browser, server, job):
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": 375, "height": 800, "deviceScaleFactor": 2, "mobile": True})
    try:
        reload(browser)
        widths = browser.execute_script(
            "const e = document.documentElement; return [e.scrollWidth, e.clientWidth, document.body.scrollWidth]")
        assert widths[1] == 375 and widths[0] <= widths[1] and widths[2] <= widths[1], widths
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    reload(browser)
    side = browser.find_element(By.CSS_SELECTOR, ".side").rect
    main = browser.find_element(By.CSS_SELECTOR, ".main").rect
    assert main["x"] > side["x"] + side["width"] - 1  # the wide layout puts them side by side


def test_undo_goes_back_step_by_step(browser, server, job):
    """Two more undos take back the moved words and the corrected word, in that order."""
    reload(browser)
    for _ in range(2):
        before = revision(browser)
        browser.find_element(By.ID, "undo").click()
        saved(browser, before)
    reload(browser)
    assert "Hearback" not in browser.find_element(By.ID, "transcript").text
    assert document(server, job["id"])["speakers"] == ["Diane", "SPEAKER_01"]


def test_delete_a_job(browser, server, job):
    browser.find_element(By.CSS_SELECTOR, f'#jobs .job[data-id="{job["id"]}"] .job-delete').click()
    WebDriverWait(browser, 10).until(lambda b: b.switch_to.alert).accept()
    wait(browser, lambda: not browser.find_elements(By.CSS_SELECTOR, "#jobs .job"), message="still listed")
    assert not browser.find_element(By.ID, "editor").is_displayed()
    assert requests.get(f"{server}/v1/jobs/{job['id']}", headers={"Authorization": f"Bearer {KEY}"},
                        timeout=10).status_code == 404


def test_no_script_error_in_the_whole_session(browser):
    """Everything above ran without an uncaught error or a blocked resource in the console."""
    bad = [entry["message"] for entry in browser.get_log("browser")
           if any(word in entry["message"] for word in ("Uncaught", "Content Security Policy", "Error:"))]
    assert not bad, bad


@pytest.fixture(scope="module")
def open_server(pipeline_tiny, tmp_path_factory):
    """A server without a key, as `hearback serve` runs on one's own machine by default."""
    with hearback_server(pipeline_tiny, tmp_path_factory.mktemp("open")) as url:
        yield url


def test_without_a_key_the_audio_streams_from_its_route(browser, open_server, testdata):
    with open(testdata / "diarization" / "pyannote-sample.wav", "rb") as audio:
        job_id = requests.post(open_server + "/v1/jobs", files={"file": audio}, timeout=30).json()["id"]
    browser.execute_script("sessionStorage.clear()")
    browser.get(f"{open_server}/#job={job_id}")
    wait(browser, lambda: browser.find_element(By.ID, "editor").is_displayed(), timeout=300, message="no transcript")
    assert not browser.find_element(By.ID, "key-form").is_displayed()
    assert browser.execute_script("return document.getElementById('audio').src").endswith(f"/v1/jobs/{job_id}/audio")
    audio_ready(browser)
    word = browser.find_elements(By.CSS_SELECTOR, "#transcript .w")[-3]  # a seek near the end: a Range request
    assert abs(seek_by_click(browser, word) - float(word.get_attribute("data-start"))) <= 0.3
    browser.execute_script("document.getElementById('audio').pause()")
