"""The editor page's tools as a person uses them (issue 24, "The page, as a person uses it",
and the page side of its data-safety items 1 and 3): playback speed and the step back on
resume, a double-click that corrects without playing, find and replace as one undoable change,
selection by touch, a slow download's progress, and two tabs on one job. Real Chromium
(selenium, chromedriver; touch emulation, throttled network) over real HTTP against
``hearback serve`` with Whisper tiny.en and the embedded diarizer on the pyannote sample; one
job, made by the page, shared by the tests in file order.
"""

from __future__ import annotations

import re
import time

import pytest

from tests.pagedriver import require_chromium

pytestmark = pytest.mark.slow  # a browser and a server per module: `make test-fast` leaves them out

require_chromium()

from selenium.webdriver.common.by import By  # noqa: E402
from selenium.webdriver.common.keys import Keys  # noqa: E402
from selenium.webdriver.support.ui import Select  # noqa: E402

from tests.pagedriver import (  # noqa: E402
    api, audio_ready, body_keys, cdp_click, document, download, downloaded, emulate, give_key, in_view,
    joined_texts, page_ready, player, reload, revision, saved, wait)
from tests.pagedriver import browser, downloads, job, server  # noqa: E402, F401  (the module's fixtures)


# -- playback --------------------------------------------------------------------------------

def test_playback_speed_from_the_menu_and_the_keys_is_kept(browser, job):
    reload(browser)
    audio_ready(browser)
    speed = Select(browser.find_element(By.ID, "speed"))
    assert speed.first_selected_option.text == "1×"
    speed.select_by_value("1.5")
    assert player(browser, "a.playbackRate") == 1.5
    body_keys(browser, "+")
    assert player(browser, "a.playbackRate") == 1.75
    body_keys(browser, "-", "-")
    assert player(browser, "a.playbackRate") == 1.25
    reload(browser)  # kept in this browser
    audio_ready(browser)
    assert player(browser, "a.playbackRate") == 1.25
    Select(browser.find_element(By.ID, "speed")).select_by_value("1")


def test_playback_steps_back_when_it_resumes(browser, job):
    reload(browser)
    audio_ready(browser)
    assert Select(browser.find_element(By.ID, "rewind")).first_selected_option.text == "2 s"
    word = [w for w in browser.find_elements(By.CSS_SELECTOR, "#transcript .w") if float(w.get_attribute("data-start")) > 8][0]
    start = float(word.get_attribute("data-start"))
    word.click()  # plays from there
    wait(browser, lambda: player(browser, f"!a.paused && a.currentTime > {start + 1}"), timeout=10, message="it did not play")
    body_keys(browser, Keys.SPACE)  # pause
    paused = player(browser, "a.paused ? a.currentTime : null")
    assert paused is not None
    browser.execute_script("const a = document.getElementById('audio'); window.resumedAt = null;"
                           "a.addEventListener('seeked', () => { window.resumedAt = a.currentTime; }, {once: true})")
    body_keys(browser, Keys.SPACE)  # resume: two seconds back
    wait(browser, lambda: browser.execute_script("return window.resumedAt !== null"), timeout=5, message="no step back")
    assert browser.execute_script("return window.resumedAt") == pytest.approx(paused - 2, abs=0.25)
    body_keys(browser, Keys.SPACE)
    Select(browser.find_element(By.ID, "rewind")).select_by_value("0")
    paused = player(browser, "a.currentTime")
    body_keys(browser, Keys.SPACE)  # no step back at 0 s
    time.sleep(0.4)
    assert player(browser, "a.currentTime") >= paused - 0.01
    body_keys(browser, Keys.SPACE)
    Select(browser.find_element(By.ID, "rewind")).select_by_value("2")


@pytest.mark.parametrize("gap", [0.0, 0.4], ids=["quick", "slow"])
def test_a_double_click_corrects_a_word_without_playing(browser, job, gap):
    """Slow: the second press comes after the click's play was due (the browser still calls it
    a double-click); either way the player stays paused where it was."""
    reload(browser)
    audio_ready(browser)
    browser.execute_script("document.getElementById('audio').currentTime = 1.5")
    wait(browser, lambda: player(browser, "a.currentTime") == 1.5)
    word = browser.find_elements(By.CSS_SELECTOR, "#transcript .w")[10]
    assert float(word.get_attribute("data-start")) > 3
    cdp_click(browser, word, 1)
    time.sleep(gap)
    cdp_click(browser, word, 2)
    wait(browser, lambda: browser.find_elements(By.CSS_SELECTOR, "#transcript .word-box"), timeout=3, message="no box")
    time.sleep(0.5)  # longer than a click waits before it plays
    assert player(browser, "a.paused") and player(browser, "a.currentTime") == pytest.approx(1.5, abs=0.01)
    assert not browser.find_elements(By.CSS_SELECTOR, "#transcript .w.now")
    browser.find_element(By.CSS_SELECTOR, "#transcript .word-box").send_keys(Keys.ESCAPE)


# -- find and replace ------------------------------------------------------------------------

def test_find_and_replace_is_one_undoable_change(browser, server, job):
    reload(browser)
    before = document(server, job["id"])
    texts = joined_texts(before)
    count = sum(len(re.findall("chicago", t, re.I)) for t in texts)
    assert count >= 2
    body_keys(browser, Keys.CONTROL, "f")
    box = browser.find_element(By.ID, "find-input")
    assert box.is_displayed() and browser.switch_to.active_element == box
    box.send_keys("chicago")
    assert browser.find_element(By.ID, "find-count").text == f"1 of {count}"
    box.send_keys(Keys.ENTER)
    assert browser.find_element(By.ID, "find-count").text == f"2 of {count}"
    assert len(browser.find_elements(By.CSS_SELECTOR, "#transcript .w.hit")) == count
    revision_before = api(server, f"/v1/jobs/{job['id']}").json()["revision"]
    browser.find_element(By.ID, "replace-input").send_keys("Boston")
    shown = revision(browser)
    browser.find_element(By.ID, "replace-all").click()
    saved(browser, shown)
    after = document(server, job["id"])
    assert api(server, f"/v1/jobs/{job['id']}").json()["revision"] == revision_before + 1  # one change
    assert joined_texts(after) == [re.sub("chicago", "Boston", t, flags=re.I) for t in texts]  # punctuation kept
    assert browser.find_element(By.ID, "find-count").text == "not found"
    assert f"Replaced {count} matches." == browser.find_element(By.ID, "edit-message").text
    shown = revision(browser)
    browser.find_element(By.ID, "undo").click()  # one undo takes all of it back
    saved(browser, shown)
    assert joined_texts(document(server, job["id"])) == texts
    # Replace: only the match shown
    wait(browser, lambda: browser.find_element(By.ID, "find-count").text == f"1 of {count}")
    shown = revision(browser)
    browser.find_element(By.ID, "replace-one").click()
    saved(browser, shown)
    replaced = joined_texts(document(server, job["id"]))
    assert sum(t.count("Boston") for t in replaced) == 1 and sum(len(re.findall("chicago", t, re.I)) for t in replaced) == count - 1
    shown = revision(browser)
    browser.find_element(By.ID, "undo").click()
    saved(browser, shown)
    body_keys(browser, Keys.ESCAPE)
    assert not browser.find_element(By.ID, "find-bar").is_displayed()
    assert not browser.find_elements(By.CSS_SELECTOR, "#transcript .hit")


# -- selection by touch ----------------------------------------------------------------------

def test_words_selected_by_touch_move_to_another_speaker(browser, server, job):
    """Under Chromium's touch emulation (a phone's size, touch events, no mouse): a finger
    holds a word and the selection is made as a phone's long press and handles make it.
    Headless Linux Chromium draws no touch selection handles, so the range is set through the
    Selection API between the real touchstart and touchend; no mouse or key event is sent, so
    the page must hear the selection itself (selectionchange)."""
    emulate(browser, "phone")
    browser.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
    try:
        reload(browser)
        doc = document(server, job["id"])
        segments = doc["transcription"]["segments"]
        segment = max(range(len(segments)), key=lambda i: len(segments[i]["words"]))
        other = next(s for s in doc["speakers"] if s != segments[segment]["speaker"])
        browser.execute_script(
            "window.heard = []; for (const t of ['mousedown', 'mouseup', 'keyup', 'touchstart', 'touchend'])"
            " document.addEventListener(t, () => heard.push(t), true);"
            "document.querySelector(`#transcript .w[data-seg='${arguments[0]}'][data-w='1']`).scrollIntoView({block: 'center'})", segment)
        x, y = browser.execute_script(
            "const r = document.querySelector(`#transcript .w[data-seg='${arguments[0]}'][data-w='1']`).getBoundingClientRect();"
            "return [r.x + r.width / 2, r.y + r.height / 2]", segment)
        touch = lambda kind, *points: browser.execute_cdp_cmd(  # noqa: E731
            "Input.dispatchTouchEvent", {"type": kind, "touchPoints": [{"x": px, "y": py} for px, py in points]})
        select = ("const words = document.querySelectorAll(`#transcript .w[data-seg='${arguments[0]}']`);"
                  "const range = document.createRange(); range.setStartBefore(words[1]); range.setEndAfter(words[arguments[1]]);"
                  "getSelection().removeAllRanges(); getSelection().addRange(range);")
        touch("touchStart", (x, y))
        time.sleep(0.6)  # a long press selects the word held
        browser.execute_script(select, segment, 1)
        for step in range(1, 6):  # then a handle dragged over the next word: a move, so no tap (no mouse events)
            touch("touchMove", (x + 8 * step, y))
            time.sleep(0.05)
        browser.execute_script(select, segment, 2)
        touch("touchEnd")
        wait(browser, lambda: browser.find_element(By.ID, "selection-bar").is_displayed(), message="no selection bar")
        heard = browser.execute_script("return heard")
        assert "touchstart" in heard and "touchend" in heard and not {"mousedown", "mouseup", "keyup"} & set(heard), heard
        assert in_view(browser, "#selection-bar")  # in the pinned bar
        Select(browser.find_element(By.ID, "selection-speaker")).select_by_value(other)
        shown = revision(browser)
        browser.find_element(By.ID, "selection-apply").click()
        saved(browser, shown)
        after = document(server, job["id"])["transcription"]["segments"]
        assert len(after) == len(segments) + 2 and after[segment + 1]["speaker"] == other
        assert [w["word"] for w in after[segment + 1]["words"]] == [w["word"] for w in segments[segment]["words"][1:3]]
        shown = revision(browser)
        browser.find_element(By.ID, "undo").click()
        saved(browser, shown)
    finally:
        browser.execute_cdp_cmd("Emulation.setTouchEmulationEnabled", {"enabled": False})
        browser.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})


# -- a slow download -------------------------------------------------------------------------

def test_a_slow_download_shows_its_progress(browser, job, downloads):
    """The network slowed to 16 KB/s by Chromium's own throttling (the JSON is ~30 KB)."""
    reload(browser)
    browser.execute_script(
        "window.said = []; new MutationObserver(() => said.push(document.getElementById('edit-message').textContent))"
        ".observe(document.getElementById('edit-message'), {childList: true, characterData: true, subtree: true})")
    browser.execute_cdp_cmd("Network.enable", {})
    browser.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 50,
                                                                "downloadThroughput": 16 * 1024, "uploadThroughput": -1})
    try:
        download(browser, "json")
        downloaded(downloads, "pyannote-sample.json", timeout=60)
        wait(browser, lambda: browser.find_element(By.ID, "edit-message").text.startswith("Downloaded"), message="no end")
    finally:
        browser.execute_cdp_cmd("Network.emulateNetworkConditions", {"offline": False, "latency": 0,
                                                                    "downloadThroughput": -1, "uploadThroughput": -1})
    said = browser.execute_script("return said")
    assert said[0] == "Preparing JSON…"
    shares = [int(m.group(1)) for m in (re.match(r"Downloading JSON… (\d+)%$", s) for s in said) if m]
    assert len(shares) >= 3 and shares == sorted(shares) and shares[0] < 50 and shares[-1] == 100, said


# -- two tabs on one job ----------------------------------------------------------------------

def test_two_tabs_a_stale_edit_never_changes_a_sentence_neither_meant(browser, server, job):
    """Tab A empties segment 1; tab B, still showing the old view, corrects a word of segment 3.
    B's change is refused as stale (nothing changes), B shows the latest transcript, says so and
    keeps what was typed in the word's box, now on the same word at its new place; saved again,
    it lands on that word and nowhere else."""
    reload(browser)
    tab_a = browser.current_window_handle
    browser.switch_to.new_window("tab")
    tab_b = browser.current_window_handle
    try:
        browser.get(f"{server}/#job={job['id']}")
        give_key(browser)  # a new tab: its own sessionStorage
        page_ready(browser)
        wait(browser, lambda: browser.find_element(By.ID, "editor").is_displayed(), message="no transcript in tab B")
        before = document(server, job["id"])["transcription"]["segments"]
        target = before[3]["words"][1]
        browser.switch_to.window(tab_a)
        turn = next(t for t in browser.find_elements(By.CSS_SELECTOR, "#transcript .turn")
                    if "1" in t.get_attribute("data-segments").split(","))
        turn.find_element(By.CSS_SELECTOR, ".edit-turn").click()
        box = turn.find_element(By.CSS_SELECTOR, 'textarea[data-seg="1"]')
        box.clear()
        shown = revision(browser)
        turn.find_element(By.CSS_SELECTOR, ".save").click()
        saved(browser, shown)
        after_a = document(server, job["id"])["transcription"]["segments"]
        assert after_a == before[:1] + before[2:]  # segment 1 went, the rest moved up
        browser.switch_to.window(tab_b)  # still shows segment 3 as it was
        word = browser.find_element(By.CSS_SELECTOR, '#transcript .w[data-seg="3"][data-w="1"]')
        assert word.text == target["word"].strip()
        cdp_click(browser, word, 1)
        cdp_click(browser, word, 2)
        box = wait(browser, lambda: browser.find_element(By.CSS_SELECTOR, "#transcript .word-box"), timeout=5)
        box.send_keys(Keys.CONTROL, "a")
        box.send_keys("Texan", Keys.ENTER)
        wait(browser, lambda: "changed elsewhere" in browser.find_element(By.ID, "edit-message").text,
             message=browser.find_element(By.ID, "edit-message").text)
        assert document(server, job["id"])["transcription"]["segments"] == after_a  # B changed nothing
        box = wait(browser, lambda: browser.find_element(By.CSS_SELECTOR, "#transcript .word-box"), message="typed text lost")
        assert box.get_attribute("value") == "Texan"
        place = browser.execute_script("return arguments[0].closest('.seg').dataset.seg", box)
        assert place == "2"  # the same word, where it is now
        assert len(browser.find_elements(By.CSS_SELECTOR, "#transcript .seg")) == len(after_a)  # the latest version shown
        shown = revision(browser)
        box.send_keys(Keys.ENTER)
        saved(browser, shown)
        final = document(server, job["id"])["transcription"]["segments"]
        assert [w["word"].strip() for w in final[2]["words"]][1] == "Texan"
        assert final[:2] + final[3:] == after_a[:2] + after_a[3:]  # no other sentence changed
        assert [w["start"] for w in final[2]["words"]] == [w["start"] for w in after_a[2]["words"]]
    finally:
        browser.close()
        browser.switch_to.window(tab_a)
    reload(browser)
    for _ in range(2):  # back to the job as it was, for the tests after
        shown = revision(browser)
        browser.find_element(By.ID, "undo").click()
        saved(browser, shown)
    assert document(server, job["id"])["transcription"]["segments"] == before


def test_no_script_error_in_the_whole_session(browser):
    bad = [entry["message"] for entry in browser.get_log("browser")
           if any(word in entry["message"] for word in ("Uncaught", "Content Security Policy", "Error:"))]
    assert not bad, bad
