"""Helpers for the editor page's browser tests (tests/test_page*.py): the fixtures they share
(a keyed server, a browser, a job the page made), waiting on the page, answering its key
question, reading what it shows, and the API beside it."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
import requests
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support.ui import WebDriverWait

from tests.httpserver import hearback_server

KEY = "page-test-key"
CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")


def require_chromium():
    """Skip the calling test module where Debian's chromium is missing (fail on CI)."""
    if not (CHROMIUM.exists() and CHROMEDRIVER.exists()):
        if os.environ.get("CI"):
            raise RuntimeError("CI must have chromium and chromium-driver (apt-get install chromium chromium-driver)")
        pytest.skip("chromium and chromium-driver are not installed (apt-get install chromium chromium-driver)",
                    allow_module_level=True)


@pytest.fixture(scope="module")
def server(pipeline_tiny, tmp_path_factory):
    """``hearback serve`` with an API key and a voice library, for one test module."""
    folder = tmp_path_factory.mktemp("page")
    with hearback_server(pipeline_tiny, folder, hearback_api_key=KEY,
                         speaker_library=folder / "voices.sqlite3") as url:
        yield url


@pytest.fixture(scope="module")
def downloads(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("downloads")


@pytest.fixture(scope="module")
def browser(downloads):
    driver = chromium(CHROMIUM, CHROMEDRIVER, downloads)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def job(browser, server, testdata):
    """The pyannote sample given to the page's file input; what the progress showed on the way."""
    browser.get(server + "/")
    give_key(browser)
    page_ready(browser)
    browser.find_element(By.ID, "file-input").send_keys(str(testdata / "diarization" / "pyannote-sample.wav"))
    browser.find_element(By.ID, "start").click()
    return watch_job(browser)


def in_view(browser, selector) -> bool:
    """Whether the element is wholly inside the viewport (not scrolled away)."""
    return browser.execute_script(
        "const n = document.querySelector(arguments[0]); if (!n || !n.offsetParent) return false;"
        "const r = n.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight && r.height > 0", selector)


def chromium(binary: Path, driver: Path, downloads: Path) -> webdriver.Chrome:
    """Headless chromium through its driver (no browser download); it may play audio unasked
    and saves downloads in ``downloads``."""
    options = webdriver.ChromeOptions()
    options.binary_location = str(binary)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--autoplay-policy=no-user-gesture-required", "--window-size=1280,1000"):
        options.add_argument(argument)
    options.add_experimental_option("prefs", {"download.default_directory": str(downloads),
                                              "download.prompt_for_download": False})
    browser = webdriver.Chrome(service=Service(str(driver)), options=options)
    browser.execute_cdp_cmd("Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(downloads)})
    return browser


def watch_job(browser, timeout: float = 300) -> dict:
    """Follow the open job in the page until its transcript shows: its id, the stages the
    progress showed, and every place and size the status card had while the job ran."""
    seen, boxes, deadline = [], set(), time.monotonic() + timeout
    while not browser.find_element(By.ID, "editor").is_displayed():
        assert time.monotonic() < deadline, "the job did not finish"
        stage = browser.find_element(By.CSS_SELECTOR, ".bar").get_attribute("data-stage")
        if stage and (not seen or seen[-1] != stage):
            seen.append(stage)
        boxes.add(browser.execute_script(  # while it runs (once done, the card folds to one line)
            "const r = document.getElementById('status').getBoundingClientRect();"
            "const done = document.getElementById('status').classList.contains('folded');"
            "return document.getElementById('editor').hidden && !done ? [r.top, r.width, r.height].join() : null"))
        time.sleep(0.05)
    job_id = browser.execute_script("return location.hash.slice(5)")
    return {"id": job_id, "boxes": boxes,
            "stages": seen + [browser.find_element(By.CSS_SELECTOR, ".bar").get_attribute("data-stage")]}


def wait(browser, condition, timeout=30.0, message=""):
    return WebDriverWait(browser, timeout, poll_frequency=0.05).until(lambda _: condition(), message)


def api(server, path, method="GET", **kwargs):
    response = requests.request(method, server + path, headers={"Authorization": f"Bearer {KEY}"},
                                timeout=30, **kwargs)
    response.raise_for_status()
    return response


def give_key(browser, key=KEY):
    wait(browser, lambda: browser.find_element(By.ID, "key-form").is_displayed(), message="no key question")
    box = browser.find_element(By.ID, "key-input")
    box.send_keys(key)
    box.send_keys(Keys.ENTER)


def page_ready(browser):
    wait(browser, lambda: browser.execute_script("return document.body.dataset.ready === '1'"),
         message="the page did not finish loading")


def reload(browser):
    """Reload the open job, as a person pressing F5 (the key stays in the tab)."""
    browser.refresh()
    page_ready(browser)
    wait(browser, lambda: browser.find_element(By.ID, "editor").is_displayed(), message="no transcript")


def speakers_shown(browser) -> list[str]:
    """The speakers panel's names (read whether the panel is folded or open)."""
    return [node.get_attribute("textContent") for node in browser.find_elements(By.CSS_SELECTOR, "#speakers .speaker-name")]


def open_speakers(browser):
    """Unfold the speakers panel (rename, merge, "this voice is", the timeline), as a click on its line does."""
    if not browser.execute_script("return document.getElementById('speakers-panel').open"):
        browser.find_element(By.CSS_SELECTOR, "#speakers-panel summary").click()
    wait(browser, lambda: browser.find_element(By.ID, "speakers").is_displayed(), message="the speakers panel stays folded")


def download(browser, format):
    """Open the Download menu and pick ``format``."""
    browser.find_element(By.CSS_SELECTOR, "#downloads summary").click()
    browser.find_element(By.CSS_SELECTOR, f'#download-list button[data-format="{format}"]').click()


def document(server, job_id):
    return api(server, f"/v1/jobs/{job_id}/result?format=json").json()


def saved(browser, revision_before):
    """Wait until the page has shown a new document (after an edit or undo)."""
    try:
        wait(browser, lambda: browser.execute_script("return Number(document.body.dataset.revision)") > revision_before)
    except TimeoutException:
        said = browser.execute_script("return document.getElementById('edit-message').textContent")
        raise AssertionError(f"the change was not shown; the page says {said!r}") from None


def revision(browser) -> int:
    return browser.execute_script("return Number(document.body.dataset.revision)")


CONTRAST_JS = """
const rgb = (text) => text.match(/[\\d.]+/g).slice(0, 4).map(Number);
const lum = ([r, g, b]) => [r, g, b].map((v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; })
  .reduce((sum, v, i) => sum + v * [0.2126, 0.7152, 0.0722][i], 0);
const background = (node) => {
  for (; node; node = node.parentElement) {
    const c = rgb(getComputedStyle(node).backgroundColor);
    if (c.length < 4 || c[3] > 0) return c;
  }
  return [255, 255, 255];
};
return [...document.querySelectorAll(arguments[0])].filter((n) => n.offsetParent && n.textContent.trim()).map((n) => {
  const [a, b] = [lum(rgb(getComputedStyle(n).color)), lum(background(n))];
  return [n.className || n.tagName, n.textContent.trim().slice(0, 20), (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
});
"""


def audio_ready(browser):
    wait(browser, lambda: browser.execute_script("return document.getElementById('audio').readyState >= 1"),
         message="the audio did not load")


def rename(browser, speaker, name):
    open_speakers(browser)
    row = browser.find_element(By.CSS_SELECTOR, f'#speakers .speaker[data-speaker="{speaker}"]')
    box = row.find_element(By.CSS_SELECTOR, ".rename-input")
    box.clear()
    box.send_keys(name)
    before = revision(browser)
    box.send_keys(Keys.ENTER)
    saved(browser, before)


def downloaded(downloads, name, timeout=20.0) -> str:
    path = downloads / name
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{name} was not downloaded"
        time.sleep(0.1)
    return path.read_text(encoding="utf-8")


def turn_speakers(browser) -> list[str]:
    return [node.get_attribute("data-speaker") for node in browser.find_elements(By.CSS_SELECTOR, "#transcript .turn")]


def seek_by_click(browser, node=None, click=None) -> float:
    """Click ``node`` (or run ``click``) and return where the player's seek landed: its
    currentTime when the ``seeked`` event came (later it has moved on, since a click plays)."""
    browser.execute_script(
        "const a = document.getElementById('audio'); window.seekedAt = null;"
        "a.addEventListener('seeked', () => { window.seekedAt = a.currentTime; }, {once: true})")
    (click or node.click)()
    wait(browser, lambda: browser.execute_script("return window.seekedAt !== null"), timeout=10, message="no seek")
    return browser.execute_script("return window.seekedAt")


#: a 1366×768 screen less the browser's own bars (the viewport the issue measured), and a phone
SIZES = {"desktop": (1366, 625, False), "phone": (390, 844, True)}


def emulate(browser, size):
    width, height, mobile = SIZES[size] if isinstance(size, str) else size
    browser.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": mobile})


def body_keys(browser, *keys):
    browser.execute_script("document.activeElement && document.activeElement.blur()")
    browser.find_element(By.TAG_NAME, "body").send_keys(*keys)


def player(browser, expression):
    return browser.execute_script(f"const a = document.getElementById('audio'); return {expression}")


def joined_texts(doc) -> list[str]:
    return [" ".join(w["word"].strip() for w in s["words"]) or s["text"].strip() for s in doc["transcription"]["segments"]]


def cdp_click(browser, node, count):
    """A press and release on ``node`` as the browser's input (``count``: 2 for a double-click's second)."""
    x, y = browser.execute_script("const r = arguments[0].getBoundingClientRect(); return [r.x + r.width / 2, r.y + r.height / 2]", node)
    for kind in ("mousePressed", "mouseReleased"):
        browser.execute_cdp_cmd("Input.dispatchMouseEvent", {"type": kind, "x": x, "y": y, "button": "left", "clickCount": count})
