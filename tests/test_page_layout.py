"""The editor page as a person first sees it (issue 24, "The page, as a person uses it"; issue
23 item 6): the lists it reads from the server, the stages that really ran, the transcript in
the first screen with the tools pinned, the keys shown, a turn's speaker drawn as a control, the
start form, a failed job, and the screenshots. Real Chromium (selenium, chromedriver) over real
HTTP against ``hearback serve`` with Whisper tiny.en and the embedded diarizer on the pyannote
sample; one job, made by the page, shared by the tests in file order.
"""

from __future__ import annotations

import os
import re
import shutil

import pytest

from tests.pagedriver import require_chromium

pytestmark = pytest.mark.slow  # a browser and a server per module: `make test-fast` leaves them out

require_chromium()

from selenium.webdriver.common.by import By  # noqa: E402

from hearback import writers  # noqa: E402
from hearback.jobs.store import JobStatus  # noqa: E402
from hearback.schema import MAX_SPEAKERS  # noqa: E402
from hearback.types import Stage  # noqa: E402
from tests.pagedriver import (  # noqa: E402
    SIZES, api, audio_ready, emulate, in_view, reload, rename, wait)
from tests.pagedriver import browser, downloads, job, server  # noqa: E402, F401  (the module's fixtures)

WEB = writers.__file__.rsplit("/", 1)[0] + "/web"


# -- the lists the page reads from the server ------------------------------------------------

def test_the_page_shows_the_catalogs_lists_and_copies_none(browser, server, job):
    catalog = api(server, "/v1/catalog").json()
    shown = [b.get_attribute("data-format") for b in browser.find_elements(By.CSS_SELECTOR, "#download-list button")]
    assert shown == list(writers.FORMATS)
    options = [o.get_attribute("value") for o in browser.find_elements(By.CSS_SELECTOR, "#language option")]
    assert options == [""] + [entry["code"] for entry in catalog["languages"]]  # "" = detect
    for box in ("min-speakers", "max-speakers"):
        assert browser.find_element(By.ID, box).get_attribute("max") == str(MAX_SPEAKERS)
    enums = browser.execute_async_script(
        "const done = arguments[0]; import('/web/catalog.js').then((m) => done([m.STAGE, m.STATUS]))")
    assert enums == [catalog["stages"], catalog["statuses"]]
    # no copy left in the page's files: the formats, stage names, statuses and bounds are not written there
    for name in os.listdir(WEB):
        text = open(os.path.join(WEB, name), encoding="utf-8").read()
        if name.endswith(".css"):
            continue  # colours per status badge are the style's, not a list the page acts on
        assert 'max="20"' not in text and "asr" not in re.findall(r"\w+", text), name
        for value in [  # ("assign" is also an edit op's name)
                      *writers.FORMATS, *(s.value for s in JobStatus), *(s.value for s in Stage if s is not Stage.ASSIGN)]:
            assert not re.search(rf"""["'`]{value}["'`]""", text), (name, value)


def test_the_stages_shown_are_those_that_ran(browser, server, job, pipeline_tiny):
    view = api(server, f"/v1/jobs/{job['id']}").json()
    aligned = pipeline_tiny.aligner.available("en")  # no wav2vec2 model here: alignment does not run
    assert view["stages"] == ["decode", "transcribe", *(["align"] if aligned else []), "diarize", "assign"]
    items = browser.find_elements(By.CSS_SELECTOR, "#stages li")
    assert [i.get_attribute("data-stage") for i in items] == view["stages"]
    assert all(i.get_attribute("class") == "past" for i in items)
    assert ("align words" in browser.find_element(By.ID, "stages").text) == aligned
    assert browser.find_element(By.ID, "stage-text").text == "done · 0:30"


# -- the first screen, pinned tools, keys ----------------------------------------------------

@pytest.mark.parametrize("size", SIZES)
def test_the_transcript_is_in_the_first_screen_and_the_tools_stay_pinned(browser, server, job, size):
    emulate(browser, size)
    try:
        reload(browser)
        height = browser.execute_script("return innerHeight")
        first = browser.find_element(By.CSS_SELECTOR, "#transcript .turn")
        box = browser.execute_script("return arguments[0].getBoundingClientRect().toJSON()", first)
        assert box["bottom"] <= height, (size, box, height)  # the whole first turn shows, not only its first word
        widths = browser.execute_script("const e = document.documentElement; return [e.scrollWidth, e.clientWidth]")
        assert widths[0] <= widths[1], widths  # nothing wider than the screen
        browser.execute_script("document.getElementById('transcript').style.paddingBottom = '3000px';"  # a long one
                               "window.scrollTo(0, document.body.scrollHeight)")
        wait(browser, lambda: not in_view(browser, "#transcript .turn:last-child"), message="nothing scrolled")
        for pinned in ("#audio", "#undo", "#find-open", "#downloads summary", "#speed", ".tools"):
            assert in_view(browser, pinned), (size, pinned)
        browser.find_element(By.CSS_SELECTOR, "#downloads summary").click()  # the menu opens in view while scrolled
        assert in_view(browser, "#download-list")
        browser.find_element(By.CSS_SELECTOR, "#downloads summary").click()
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_keyboard_shortcuts_are_shown(browser, job):
    reload(browser)
    keys = browser.find_element(By.ID, "keys")
    assert keys.is_displayed()
    for key in ("Space", "←", "→", "+", "Ctrl+F", "Ctrl+Z"):
        assert key in keys.text, key
    assert "Ctrl+Z" in browser.find_element(By.ID, "undo").get_attribute("title")
    assert "Ctrl+F" in browser.find_element(By.ID, "find-open").get_attribute("title")


# -- the turn's speaker, the start form ------------------------------------------------------

def test_a_turns_speaker_is_drawn_as_a_control(browser, job):
    chip = browser.find_element(By.CSS_SELECTOR, "#transcript .turn .who")
    style = browser.execute_script(
        "const s = getComputedStyle(arguments[0]); const t = getComputedStyle(document.querySelector('#transcript .w'));"
        "return [parseFloat(s.borderTopWidth), s.borderTopColor, parseFloat(getComputedStyle(arguments[0].querySelector('select')).fontSize),"
        " parseFloat(t.fontSize)]", chip)
    assert style[0] >= 1 and style[1] not in ("transparent", "rgba(0, 0, 0, 0)")  # a bordered chip, not a heading
    assert style[2] < style[3]  # smaller than the text it stands over
    menu = chip.find_element(By.TAG_NAME, "select")
    assert "change" in menu.get_attribute("aria-label")


@pytest.mark.parametrize("width", [1366, 375])
def test_the_start_form_is_one_line_to_pick_and_one_for_the_bounds(browser, job, width):
    emulate(browser, (width, 800, width < 900))
    try:
        reload(browser)
        browser.execute_script("document.getElementById('new-job').scrollIntoView()")
        drop = browser.find_element(By.ID, "drop").rect
        assert drop["height"] < 64, drop  # one line: the button and the file's name
        native = browser.find_element(By.ID, "file-input").rect
        assert native["width"] <= 1 and native["height"] <= 1  # no second, native "Choose File"
        low, high = (browser.find_element(By.ID, i).rect for i in ("min-speakers", "max-speakers"))
        assert low["y"] == high["y"]  # min and max on one line
    finally:
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


# -- a failed job ----------------------------------------------------------------------------

def test_a_failed_job_shows_its_stage_its_error_and_try_again(browser, server, job, tmp_path):
    notes = tmp_path / "notes.wav"
    notes.write_text("these are meeting notes, not a recording\n")
    reload(browser)
    browser.find_element(By.ID, "file-input").send_keys(str(notes))
    browser.find_element(By.ID, "start").click()
    wait(browser, lambda: browser.find_element(By.ID, "retry").is_displayed(), timeout=60, message="no try again")
    failed = browser.execute_script("return location.hash.slice(5)")
    view = api(server, f"/v1/jobs/{failed}").json()
    assert view["status"] == "failed" and view["error"]["code"] == "invalid_audio" and view["stage"] == "decode"
    assert browser.find_element(By.ID, "stage-text").text == "failed during “decode”"
    assert browser.find_element(By.CSS_SELECTOR, "#stages li.stopped").get_attribute("data-stage") == "decode"
    assert view["error"]["message"] in browser.find_element(By.ID, "job-error").text
    assert browser.find_element(By.CSS_SELECTOR, ".bar").get_attribute("data-stage") == "failed"
    browser.find_element(By.ID, "retry").click()  # the same recording again, as a new job
    wait(browser, lambda: browser.execute_script("return location.hash.slice(5)") != failed, message="not sent again")
    again = browser.execute_script("return location.hash.slice(5)")
    assert api(server, f"/v1/jobs/{again}").json()["filename"] == "notes.wav"
    wait(browser, lambda: browser.find_element(By.ID, "retry").is_displayed(), timeout=60, message="no try again")
    browser.refresh()  # a reload: the tab no longer holds the recording
    wait(browser, lambda: browser.find_element(By.ID, "retry").is_displayed(), timeout=30, message="no try again")
    browser.find_element(By.ID, "retry").click()
    wait(browser, lambda: "choose it again" in browser.find_element(By.ID, "job-error").text, message="no word")
    for job_id in (failed, again):
        api(server, f"/v1/jobs/{job_id}", method="DELETE")
    browser.get(f"{server}/#job={job['id']}")


# -- screenshots -----------------------------------------------------------------------------

def test_screenshots(browser, server, job, tmp_path):
    """The page at 1366×768 and on a 390×844 phone with the transcript open; with
    HEARBACK_SCREENSHOTS=docs they are kept as docs/editor.png and docs/editor-phone.png."""
    reload(browser)
    rename(browser, "SPEAKER_00", "Sheila")
    rename(browser, "SPEAKER_01", "Diane")
    browser.find_element(By.CSS_SELECTOR, "#speakers-panel summary").click()  # folded again
    for name, size in (("editor.png", (1366, 768, False)), ("editor-phone.png", (390, 844, True))):
        emulate(browser, size)
        try:
            reload(browser)
            audio_ready(browser)
            browser.execute_script("const a = document.getElementById('audio');"
                                   "a.currentTime = +document.querySelectorAll('#transcript .w')[12].dataset.start + 0.02;"
                                   "window.scrollTo(0, 0)")
            wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#transcript .w.now"))
            target = tmp_path / name
            assert browser.save_screenshot(str(target)) and target.stat().st_size > 10_000
            if os.environ.get("HEARBACK_SCREENSHOTS"):
                shutil.copy(target, os.path.join(os.environ["HEARBACK_SCREENSHOTS"], name))
        finally:
            browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


def test_no_script_error_in_the_whole_session(browser):
    bad = [entry["message"] for entry in browser.get_log("browser")
           if any(word in entry["message"] for word in ("Uncaught", "Content Security Policy", "Error:"))]
    assert not bad, bad
