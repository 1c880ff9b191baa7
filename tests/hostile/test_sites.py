"""Issue 24, data safety 2: other web sites cannot write, and a foreign Host gets no answer.

Over real HTTP (``hearback serve`` on loopback, no key, as by default) and in real Chromium: a
page of another origin tries the issue's four attacks (a ``no-cors`` fetch renaming a speaker, a
``<form enctype=text/plain>`` editing a sentence, a multipart POST replacing the library voice
"Alice", a job created) and changes nothing; the server answers only the Host names it serves;
binding beyond loopback without a key warns at start-up; many small JSON edits at once are no
uploads. Real models (tiny.en + embedded diarization) on the pyannote sample."""

from __future__ import annotations

import functools
import http.server
import os
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest

from tests.httpserver import free_port, hearback_server, sample_job_server

CHROMIUM, CHROMEDRIVER = Path("/usr/bin/chromium"), Path("/usr/bin/chromedriver")


@pytest.fixture(scope="module")
def server(pipeline_tiny, testdata, tmp_path_factory):
    """A server with one finished job and the library voice Alice (enrolled from the job)."""
    folder = tmp_path_factory.mktemp("sites")
    with sample_job_server(pipeline_tiny, testdata, folder, hearback_max_uploads=4) as (url, job_id):
        alice = httpx.post(f"{url}/v1/speakers", data={"name": "Alice", "job_id": job_id, "speaker": "SPEAKER_00"},
                           timeout=30)
        assert alice.status_code == 201, alice.text
        yield url, job_id


def state(url: str, job_id: str) -> tuple:
    """Everything the attacks try to change: the document, the jobs, the library."""
    return (httpx.get(f"{url}/v1/jobs/{job_id}/result", timeout=10).json(),
            [j["id"] for j in httpx.get(f"{url}/v1/jobs", timeout=10).json()["data"]],
            httpx.get(f"{url}/v1/speakers", timeout=10).json()["data"])


def code(answer: httpx.Response) -> tuple[int, str]:
    return answer.status_code, answer.json()["error"]["code"]


def test_changes_from_another_site_are_refused(server):
    url, job_id = server
    before = state(url, job_id)
    rename = '{"ops": [{"op": "rename", "speaker": "SPEAKER_00", "name": "Mallory"}], "revision": 0}'
    attacks = [
        ("POST", f"/v1/jobs/{job_id}/edits", {"content": rename, "headers": {"Content-Type": "text/plain"}}),
        ("PATCH", f"/v1/jobs/{job_id}/speakers", {"json": {"renames": {"SPEAKER_00": "M"}, "revision": 0}}),
        ("POST", f"/v1/jobs/{job_id}/undo", {"json": {"revision": 0}}),
        ("POST", f"/v1/jobs/{job_id}/rediarize", {"json": {"revision": 0}}),
        ("POST", "/v1/speakers", {"data": {"name": "Alice", "job_id": job_id, "speaker": "SPEAKER_01"}}),
        ("POST", "/v1/jobs", {"data": {"audio_url": "https://example.com/a.mp3"}}),
        ("DELETE", f"/v1/jobs/{job_id}", {}),
        ("DELETE", "/v1/speakers/Alice", {}),
    ]
    foreign = ({"Origin": "https://evil.example"}, {"Origin": "null"}, {"Sec-Fetch-Site": "cross-site"},
               {"Sec-Fetch-Site": "same-site", "Origin": url})
    for method, path, kwargs in attacks:
        for headers in foreign:
            answer = httpx.request(method, f"{url}{path}", timeout=30, **{
                **kwargs, "headers": {**kwargs.get("headers", {}), **headers}})
            assert code(answer) == (403, "cross_site_request"), (method, path, headers, answer.text)
            assert answer.headers["connection"] == "close"
    # a text/plain body is no JSON change, whoever sends it
    plain = httpx.post(f"{url}/v1/jobs/{job_id}/edits", content=rename, headers={"Content-Type": "text/plain"},
                       timeout=30)
    assert code(plain) == (415, "unsupported_media_type")
    assert state(url, job_id) == before
    # the server's own page (same origin) and clients that are no browser still may
    mine = httpx.post(f"{url}/v1/jobs/{job_id}/edits", content=rename, timeout=30,
                      headers={"Content-Type": "application/json", "Origin": url, "Sec-Fetch-Site": "same-origin"})
    assert mine.status_code == 200 and "Mallory" in mine.json()["speakers"]
    assert httpx.post(f"{url}/v1/jobs/{job_id}/undo", json={"revision": 1}, timeout=30).status_code == 200


def test_only_the_host_names_it_serves_are_answered(server, pipeline_tiny, tmp_path):
    url, job_id = server
    port = url.rsplit(":", 1)[1]
    for host in ("evil.example", f"evil.example:{port}", f"127.0.0.2:{port}", "rebind.attacker.test"):
        answer = httpx.get(f"{url}/v1/jobs/{job_id}/result", headers={"Host": host}, timeout=10)
        assert code(answer) == (400, "invalid_host"), host
        assert "Chicago" not in answer.text
    assert httpx.get(f"{url}/", headers={"Host": "evil.example"}, timeout=10).status_code == 400
    assert httpx.get(f"{url}/health", headers={"Host": "10.1.2.3:8080"}, timeout=10).status_code == 200
    for host in (f"localhost:{port}", f"127.0.0.1:{port}", f"[::1]:{port}"):
        assert httpx.get(f"{url}/v1/jobs", headers={"Host": host}, timeout=10).status_code == 200, host
    with hearback_server(pipeline_tiny, tmp_path, hearback_allowed_hosts="hearback.lan, Other.Example") as other:
        for host, status in (("hearback.lan", 200), ("other.example:8080", 200), ("evil.example", 400)):
            assert httpx.get(f"{other}/v1/jobs", headers={"Host": host}, timeout=10).status_code == status, host
    with hearback_server(pipeline_tiny, tmp_path, hearback_allowed_hosts="*") as anyone:
        assert httpx.get(f"{anyone}/v1/jobs", headers={"Host": "evil.example"}, timeout=10).status_code == 200


def test_many_small_edits_at_once_are_no_uploads(server):
    """Twenty JSON changes at once on a server that reads 4 uploads at a time: none is turned
    away as busy (one lands, the rest are stale)."""
    url, job_id = server
    revision = httpx.get(f"{url}/v1/jobs/{job_id}", timeout=10).json()["revision"]

    def send(k: int) -> int:
        return httpx.post(f"{url}/v1/jobs/{job_id}/edits", timeout=60, json={
            "ops": [{"op": "edit", "segment": 1, "text": f"Edit {k}."}], "revision": revision}).status_code

    with ThreadPoolExecutor(20) as pool:
        statuses = sorted(pool.map(send, range(20)))
    assert statuses == [200] + [409] * 19, statuses
    assert httpx.post(f"{url}/v1/jobs/{job_id}/undo", json={"revision": revision + 1}, timeout=30).status_code == 200


ATTACK = """<!doctype html><meta charset=utf-8><title>cats</title>
<iframe name=sink></iframe>
<form id=plain method=post enctype=text/plain target=sink action="{target}/v1/jobs/{job}/edits">
<input name='{{"ops": [{{"op": "edit", "segment": 0, "text": "PWNED' value='"}}], "revision": {rev}}}'></form>
<form id=job method=post enctype=multipart/form-data target=sink action="{target}/v1/jobs">
<input name=audio_url value="https://example.com/a.mp3"></form>
<script>
const target = "{target}";
const rename = (revision) => JSON.stringify(Object.assign(
  {{ops: [{{op: "rename", speaker: "SPEAKER_00", name: "Mallory"}}]}}, revision === null ? {{}} : {{revision}}));
(async () => {{
  for (const body of [rename({rev}), rename(null)]) {{
    await fetch(`${{target}}/v1/jobs/{job}/edits`, {{method: "POST", mode: "no-cors", body}}).catch(() => null);
  }}
  const voice = new FormData();
  voice.append("name", "Alice"); voice.append("job_id", "{job}"); voice.append("speaker", "SPEAKER_01");
  await fetch(`${{target}}/v1/speakers`, {{method: "POST", mode: "no-cors", body: voice}}).catch(() => null);
  document.getElementById("plain").submit();
  await new Promise((r) => setTimeout(r, 500));
  document.getElementById("job").submit();
  await new Promise((r) => setTimeout(r, 500));
  document.title = "done";
}})();
</script>"""


@pytest.mark.skipif(not (CHROMIUM.exists() and CHROMEDRIVER.exists()), reason="chromium is not installed")
def test_a_foreign_page_in_chromium_changes_nothing(server, tmp_path):
    """The issue's attacks from a page of another origin (``localhost:<port>`` against the
    server's ``127.0.0.1:<port>``), run by Chromium itself, with the headers it really sends."""
    from tests.pagedriver import chromium, wait

    url, job_id = server
    before = state(url, job_id)
    revision = httpx.get(f"{url}/v1/jobs/{job_id}", timeout=10).json()["revision"]  # a guess would do
    (tmp_path / "attack.html").write_text(ATTACK.format(target=url, job=job_id, rev=revision))
    handler = functools.partial(_Quiet, directory=str(tmp_path))
    site = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=site.serve_forever, daemon=True).start()
    browser = chromium(CHROMIUM, CHROMEDRIVER, tmp_path)
    try:
        browser.get(f"http://localhost:{site.server_address[1]}/attack.html")
        wait(browser, lambda: browser.title == "done", 60, "the attack page did not finish")
        time.sleep(1)
    finally:
        browser.quit()
        site.shutdown()
    assert state(url, job_id) == before


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def test_binding_beyond_loopback_without_a_key_warns_loudly(tmp_path):
    """``hearback serve --host 0.0.0.0`` without HEARBACK_API_KEY says so before it loads a model."""
    env = dict(os.environ, WHISPER_MODEL="tiny.en", HEARBACK_DB=str(tmp_path / "jobs.sqlite3"),
               HEARBACK_DATA_DIR=str(tmp_path / "audio"), HF_HUB_OFFLINE="1")
    env.pop("HEARBACK_API_KEY", None)
    for host, warned in (("0.0.0.0", True), ("127.0.0.1", False)):
        proc = subprocess.Popen([sys.executable, "-m", "hearback.cli", "serve", "--host", host,
                                 "--port", str(free_port())], env=env, stderr=subprocess.PIPE, text=True)
        try:
            lines = []
            deadline = time.monotonic() + 120
            while time.monotonic() < deadline:
                line = proc.stderr.readline()
                lines.append(line)
                if "WITHOUT AN API KEY" in line or "Waiting for application startup" in line \
                        or "Started server process" in line or not line:
                    break
        finally:
            proc.kill()
            proc.wait(30)
        said = "".join(lines)
        assert ("WITHOUT AN API KEY" in said) == warned, said
        if warned:
            assert "HEARBACK_API_KEY" in said and host in said
