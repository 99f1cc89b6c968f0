"""A real browser against our ws-l: server: headless Chromium echoes text and binary through mirror:.

Chromium comes from Debian's `chromium` package; the test installs it when it is missing
(as a README user would) and fails, not skips, when the browser cannot be started.
"""

from __future__ import annotations

import http.server
import shutil
import subprocess
import threading
import time
import urllib.parse
from pathlib import Path

from conftest import Websocat

PAGE = """<!doctype html><html><body><script>
const report = (r) => fetch('/report?result=' + encodeURIComponent(r));
const ws = new WebSocket('ws://127.0.0.1:%(port)d/');
ws.binaryType = 'arraybuffer';
const got = [];
ws.onopen = () => { ws.send('hello from the browser'); ws.send(new Uint8Array([0, 1, 2, 255]).buffer); ws.send(''); };
ws.onmessage = (e) => {
  got.push(typeof e.data === 'string' ? 'text:' + e.data : 'binary:' + Array.from(new Uint8Array(e.data)).join(','));
  if (got.length === 3) { report(got.join('|')); ws.close(1000); }
};
ws.onerror = () => report('error');
</script></body></html>"""


APT_LOCK_WAIT = 300.0  # seconds to wait for another apt-get's locks


def apt_get(*args: str, timeout: float) -> subprocess.CompletedProcess[str]:
    """apt-get ARGS, waiting while another apt-get (a parallel run, unattended upgrades) holds
    its locks.  DPkg::Lock::Timeout makes `install` wait for the dpkg lock, but apt 2.6's
    `update` fails at once on the lists lock ("Could not get lock"), so that is retried."""
    env = {"DEBIAN_FRONTEND": "noninteractive", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    deadline = time.monotonic() + APT_LOCK_WAIT
    while True:
        result = subprocess.run(
            ["apt-get", "-o", f"DPkg::Lock::Timeout={int(APT_LOCK_WAIT)}", *args],
            check=False,
            capture_output=True,
            text=True,
            timeout=timeout,
            env=env,
        )
        if "Could not get lock" not in result.stderr or time.monotonic() > deadline:
            return result
        time.sleep(2)


def chromium() -> str:
    found = shutil.which("chromium")
    if found is None:
        apt_get("update", "-qq", timeout=900)
        install = apt_get("install", "-y", "-qq", "chromium", timeout=1200)
        found = shutil.which("chromium")
        assert found, f"chromium is not installed and apt-get could not install it: {install.stderr[-2000:]!r}"
    return found


def start_chromium(browser: str, page: str, profile: Path) -> subprocess.Popen[bytes]:
    """Headless Chromium opening ``page`` with a fresh profile (stderr piped, for failures)."""
    return subprocess.Popen(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            f"--user-data-dir={profile}",
            page,
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


def test_browser_echo(websocat: Websocat, tmp_path: Path) -> None:
    browser = chromium()
    proc, ws_port = websocat.listen("ws-l:127.0.0.1:0", "mirror:")
    results: list[str] = []
    arrived = threading.Event()

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802 - the http.server API
            url = urllib.parse.urlsplit(self.path)
            if url.path == "/report":
                results.append(urllib.parse.parse_qs(url.query)["result"][0])
                arrived.set()
                body = b"ok"
            else:
                body = (PAGE % {"port": ws_port}).encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/html")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    http_server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=http_server.serve_forever, daemon=True).start()
    page = f"http://127.0.0.1:{http_server.server_address[1]}/"
    chrome = start_chromium(browser, page, tmp_path / "profile")
    try:
        started = arrived.wait(60)
        if not started and chrome.poll() is not None:
            raise AssertionError(f"chromium could not be started: {chrome.stderr.read()[-2000:]!r}")  # type: ignore[union-attr]
        assert started, "the page reported nothing within 60 s"
    finally:
        chrome.kill()
        chrome.wait(10)
        http_server.shutdown()
        proc.kill()
    assert results == ["text:hello from the browser|binary:0,1,2,255|text:"]
