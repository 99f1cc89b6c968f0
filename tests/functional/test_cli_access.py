"""Servers that let in only whom they should: --restrict-uri, --allow-origin,
--server-basic-auth-file, --conncap and -F/--static-file on ws-l:, against raw sockets
(exact status lines), `websockets` clients, websocat clients (--basic-auth,
--basic-auth-file) and headless Chromium."""

from __future__ import annotations

import base64
import hashlib
import http.server
import socket
import subprocess
import threading
import urllib.parse
from pathlib import Path

import pytest
from conftest import Websocat
from test_browser import chromium, start_chromium
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

UPGRADE = (
    "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
)


def http_get(port: int, target: str, headers: str = "", method: str = "GET") -> bytes:
    """One raw HTTP request; everything the server sends until it closes."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as sock:
        sock.sendall(f"{method} {target} HTTP/1.1\r\nHost: 127.0.0.1\r\n{headers}\r\n".encode())
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
            if data.startswith(b"HTTP/1.1 101 "):
                break
        return data


def status(port: int, target: str, headers: str = "") -> str:
    return http_get(port, target, headers).split(b"\r\n", 1)[0].decode()


def echo(url: str, **kwargs: object) -> str:
    with connect(url, open_timeout=10, **kwargs) as ws:  # type: ignore[arg-type]
        ws.send("ping")
        return str(ws.recv(timeout=10))


def refused_status(url: str, **kwargs: object) -> int:
    with pytest.raises(InvalidStatus) as info:
        connect(url, open_timeout=10, **kwargs)  # type: ignore[arg-type]
    return info.value.response.status_code


def stop(websocat: Websocat, proc: subprocess.Popen[bytes]) -> str:
    proc.terminate()
    _out, err = websocat.finish(proc)
    return err.decode()


def basic(user_pass: str) -> str:
    return "Basic " + base64.b64encode(user_pass.encode()).decode()


def test_restrict_uri(websocat: Websocat) -> None:
    proc, port = websocat.listen("--restrict-uri", "/chat", "ws-l:127.0.0.1:0", "mirror:")
    assert status(port, "/other", UPGRADE) == "HTTP/1.1 404 Not Found"
    assert refused_status(f"ws://127.0.0.1:{port}/") == 404
    assert echo(f"ws://127.0.0.1:{port}/chat") == "ping"
    assert echo(f"ws://127.0.0.1:{port}/chat?room=1") == "ping"  # the query is not compared
    err = stop(websocat, proc)
    assert "refused 127.0.0.1:" in err and ": path /other is not /chat (--restrict-uri)\n" in err
    assert ": path / is not /chat (--restrict-uri)\n" in err
    assert "Traceback" not in err


def test_allow_origin(websocat: Websocat) -> None:
    proc, port = websocat.listen(
        "--allow-origin", "https://good.example", "--allow-origin", "http://also.example:8080", "ws-l:127.0.0.1:0",
        "mirror:"
    )  # fmt: skip
    url = f"ws://127.0.0.1:{port}/"
    assert status(port, "/", UPGRADE + "Origin: https://evil.example\r\n") == "HTTP/1.1 403 Forbidden"
    assert refused_status(url, origin="https://evil.example") == 403
    assert refused_status(url, origin="null") == 403  # a data: URL's or a sandboxed page's
    assert echo(url, origin="https://good.example") == "ping"
    assert echo(url, origin="http://ALSO.example:8080") == "ping"  # scheme and host are case-insensitive
    assert echo(url) == "ping"  # no Origin: not from a browser
    err = stop(websocat, proc)
    assert err.count("origin https://evil.example is not allowed (--allow-origin)\n") == 2
    assert "origin null is not allowed (--allow-origin)\n" in err


def hashed_line(user: str, password: str, iterations: int = 1000) -> str:
    """The one-line recipe of the docs, as a function."""
    salt = "c2FsdHNhbHQ"
    digest = hashlib.pbkdf2_hmac("sha256", password.encode(), salt.encode(), iterations)
    return f"{user}:pbkdf2_sha256${iterations}${salt}${base64.b64encode(digest).decode()}"


def test_basic_auth_file(websocat: Websocat, tmp_path: Path) -> None:
    users = tmp_path / "users.txt"
    users.write_text(f"# comment\n\nalice:s3cr:et\n{hashed_line('bob', 'hunter2')}\n")
    started = tmp_path / "started"
    proc, port = websocat.listen(
        "--server-basic-auth-file", str(users), "ws-l:127.0.0.1:0", f"cmd:touch {started}; cat"
    )
    url = f"ws://127.0.0.1:{port}/"
    reply = http_get(port, "/", UPGRADE)
    assert reply.startswith(b"HTTP/1.1 401 Unauthorized\r\n")
    assert b'\r\nWWW-Authenticate: Basic realm="websocat"\r\n' in reply
    wrong = UPGRADE + f"Authorization: {basic('alice:wrong')}\r\n"
    assert status(port, "/", wrong) == "HTTP/1.1 401 Unauthorized"
    assert refused_status(url, additional_headers={"Authorization": basic("bob:hunter3")}) == 401
    assert refused_status(url, additional_headers={"Authorization": basic("carol:x")}) == 401
    assert not started.exists()  # a refused client never starts the command
    with connect(url, open_timeout=10, additional_headers={"Authorization": basic("alice:s3cr:et")}) as ws:
        ws.send("one")
        assert ws.recv(timeout=10) == "one"
    assert started.exists()
    assert echo(f"ws://bob:hunter2@127.0.0.1:{port}/") == "ping"  # the websockets client sends URL credentials
    err = stop(websocat, proc)
    assert "no credentials (--server-basic-auth-file)\n" in err
    assert "wrong password for user 'alice' (--server-basic-auth-file)\n" in err
    assert "wrong password for user 'bob' (--server-basic-auth-file)\n" in err
    assert "unknown user 'carol' (--server-basic-auth-file)\n" in err
    assert "s3cr" not in err and "hunter" not in err


def test_websocat_client_basic_auth_options(websocat: Websocat, tmp_path: Path) -> None:
    (tmp_path / "users.txt").write_text("alice:pa:ss\n")
    (tmp_path / "auth.txt").write_text("alice:pa:ss\n")
    proc, port = websocat.listen("--server-basic-auth-file", "users.txt", "ws-l:127.0.0.1:0", "mirror:")
    url = f"ws://127.0.0.1:{port}/"
    out = websocat.run("--basic-auth", "alice:pa:ss", url, input=b"hello\n")
    assert (out.returncode, out.stdout) == (0, b"hello\n"), out.stderr
    out = websocat.run("--basic-auth-file", "auth.txt", url, input=b"file\n")
    assert (out.returncode, out.stdout) == (0, b"file\n"), out.stderr
    out = websocat.run("--basic-auth", "alice:nope", url, input=b"x\n")
    assert out.returncode == 4 and b"401 Unauthorized" in out.stderr and b"Traceback" not in out.stderr
    dump = websocat.run("--dump-spec", "--basic-auth", "alice:pa:ss", url)
    assert dump.stdout.startswith(b"# websocat --dump-spec --basic-auth alice:*** ") or b"alice:***" in dump.stdout
    out = websocat.run("--basic-auth-file", "missing.txt", url, input=b"x\n")
    assert out.returncode == 3 and out.stderr.count(b"\n") == 1, out.stderr
    assert b"--basic-auth-file missing.txt: No such file or directory" in out.stderr
    stop(websocat, proc)


@pytest.mark.parametrize(
    ("content", "code", "message"),
    [
        (None, 3, "--server-basic-auth-file users.txt: No such file or directory"),
        ("just-a-name\n", 2, "--server-basic-auth-file users.txt: line 1: expected user:password"),
        ("bob:pbkdf2_sha256$x$salt$abc=\n", 2, "line 1: expected pbkdf2_sha256$ITERATIONS$SALT$HASH"),
        ("# nobody\n", 2, "no user:password line"),
    ],
)
def test_bad_users_file_fails_at_start(
    websocat: Websocat, tmp_path: Path, content: str | None, code: int, message: str
) -> None:
    if content is not None:
        (tmp_path / "users.txt").write_text(content)
    out = websocat.run("--server-basic-auth-file", "users.txt", "ws-l:127.0.0.1:0", "mirror:", timeout=20)
    assert out.returncode == code, out.stderr
    assert out.stderr.count(b"\n") == 1 and message.encode() in out.stderr, out.stderr


def test_conncap_websocket_gets_503(websocat: Websocat, tmp_path: Path) -> None:
    proc, port = websocat.listen("--conncap", "1", "ws-l:127.0.0.1:0", "mirror:")
    url = f"ws://127.0.0.1:{port}/"
    with connect(url, open_timeout=10) as first:
        first.send("a")
        assert first.recv(timeout=10) == "a"
        assert status(port, "/", UPGRADE) == "HTTP/1.1 503 Service Unavailable"
        assert refused_status(url) == 503
    for _attempt in range(50):  # the first session ends a moment after its client closed
        try:
            assert echo(url) == "ping"
            break
        except InvalidStatus:
            pass
    else:
        pytest.fail("the slot of the first session was not freed")
    err = stop(websocat, proc)
    assert "--conncap 1 reached\n" in err and "refused 127.0.0.1:" in err


def test_conncap_tcp_closes_at_once(websocat: Websocat) -> None:
    proc, port = websocat.listen("-b", "--conncap", "1", "tcp-l:127.0.0.1:0", "mirror:")
    with socket.create_connection(("127.0.0.1", port), timeout=10) as first:
        first.sendall(b"x")
        assert first.recv(10) == b"x"
        with socket.create_connection(("127.0.0.1", port), timeout=10) as second:
            assert second.recv(10) == b""  # closed at once, nothing started for it
    err = stop(websocat, proc)
    assert ": --conncap 1 reached, closed at once\n" in err


def test_static_file(websocat: Websocat, tmp_path: Path) -> None:
    (tmp_path / "index.html").write_bytes(b"<h1>hello</h1>\n")
    proc, port = websocat.listen(
        "-F", "/index.html:text/html; charset=utf-8:index.html", "-F", "/gone:text/plain:gone.txt",
        "--restrict-uri", "/ws", "ws-l:127.0.0.1:0", "mirror:"
    )  # fmt: skip
    reply = http_get(port, "/index.html")
    assert reply == (
        b"HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 15\r\n"
        b"Connection: close\r\n\r\n<h1>hello</h1>\n"
    )
    assert http_get(port, "/index.html", method="HEAD").endswith(b"Connection: close\r\n\r\n")
    assert status(port, "/index.html?v=2") == "HTTP/1.1 200 OK"
    assert status(port, "/other") == "HTTP/1.1 404 Not Found"
    assert status(port, "/gone") == "HTTP/1.1 404 Not Found"  # its file is missing
    assert status(port, "/index.html", UPGRADE) == "HTTP/1.1 404 Not Found"  # an upgrade: --restrict-uri
    assert echo(f"ws://127.0.0.1:{port}/ws") == "ping"
    err = stop(websocat, proc)
    refused = [line.split(": ", 2)[2] for line in err.splitlines() if "refused" in line]
    assert sorted(refused) == sorted(
        [
            "path /other is not /ws (--restrict-uri)",
            "static file gone.txt: No such file or directory (-F)",
            "path /index.html is not /ws (--restrict-uri)",
        ]
    ), err


def test_static_file_without_restrict_uri(websocat: Websocat, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("a")
    proc, port = websocat.listen("-F", "/a:text/plain:a.txt", "ws-l:127.0.0.1:0", "mirror:")
    assert http_get(port, "/a").endswith(b"\r\n\r\na")
    assert status(port, "/b") == "HTTP/1.1 404 Not Found"
    assert echo(f"ws://127.0.0.1:{port}/anything") == "ping"
    err = stop(websocat, proc)
    assert ": GET /b: no such static file (-F) and not a WebSocket upgrade\n" in err


def test_static_file_behind_basic_auth(websocat: Websocat, tmp_path: Path) -> None:
    (tmp_path / "page.html").write_text("secret page")
    (tmp_path / "users.txt").write_text("u:p\n")
    proc, port = websocat.listen(
        "-F", "/:text/html:page.html", "--server-basic-auth-file", "users.txt", "ws-l:127.0.0.1:0", "mirror:"
    )
    assert status(port, "/") == "HTTP/1.1 401 Unauthorized"
    assert http_get(port, "/", f"Authorization: {basic('u:p')}\r\n").endswith(b"\r\n\r\nsecret page")
    stop(websocat, proc)


def test_without_static_files_a_plain_get_still_gets_400(websocat: Websocat) -> None:
    proc, port = websocat.listen("ws-l:127.0.0.1:0", "mirror:")
    assert status(port, "/") == "HTTP/1.1 400 Bad Request"
    stop(websocat, proc)


def test_lint_for_an_open_remote_shell(websocat: Websocat) -> None:
    warning = b"warning: a command is served to anyone who reaches 0.0.0.0:8080"
    out = websocat.run("--dump-spec-phase2", "ws-l:0.0.0.0:8080", "cmd:bash")
    assert warning in out.stdout + out.stderr
    for guarded in (
        ["--restrict-uri", "/x"],
        ["--allow-origin", "https://a.example"],
        ["--server-basic-auth-file", "u.txt"],
        ["--no-lints"],
    ):
        out = websocat.run("--dump-spec-phase2", *guarded, "ws-l:0.0.0.0:8080", "cmd:bash")
        assert out.returncode == 0 and b"warning: a command" not in out.stdout + out.stderr, guarded
    out = websocat.run("--dump-spec-phase2", "ws-l:127.0.0.1:8080", "cmd:bash")
    assert b"warning: a command" not in out.stdout + out.stderr


def test_unused_access_options_are_linted(websocat: Websocat) -> None:
    out = websocat.run("--dump-spec-phase2", "--restrict-uri", "/x", "--conncap", "2", "tcp:127.0.0.1:1", "-")
    text = (out.stdout + out.stderr).decode()
    assert "--restrict-uri has no effect here" in text and "--conncap has no effect here" in text


# ---------------------------------------------------------------- headless Chromium


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class Reports:
    """An http.server that serves ``page`` at / and records /report?result=... requests."""

    def __init__(self, page: str = "") -> None:
        self.results: list[str] = []
        self.arrived = threading.Event()
        reports = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - the http.server API
                url = urllib.parse.urlsplit(self.path)
                body = page.encode()
                if url.path == "/report":
                    reports.results.append(urllib.parse.parse_qs(url.query)["result"][0])
                    reports.arrived.set()
                    body = b"ok"
                self.send_response(200)
                self.send_header("Content-Type", "text/html")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait(self, chrome: subprocess.Popen[bytes]) -> list[str]:
        try:
            arrived = self.arrived.wait(60)
            if not arrived and chrome.poll() is not None:
                raise AssertionError(f"chromium could not be started: {chrome.stderr.read()[-2000:]!r}")  # type: ignore[union-attr]
            assert arrived, "the page reported nothing within 60 s"
        finally:
            chrome.kill()
            chrome.wait(10)
            self.server.shutdown()
        return self.results


CROSS_SITE_PAGE = """<!doctype html><html><body><script>
const report = (r) => fetch('/report?result=' + encodeURIComponent(r));
const ws = new WebSocket('ws://127.0.0.1:%(port)d/');
ws.onopen = () => report('opened');
ws.onerror = () => report('refused');
</script></body></html>"""


def test_browser_page_of_another_origin_is_refused(websocat: Websocat, tmp_path: Path) -> None:
    browser = chromium()
    ws_port = free_port()
    proc, _port = websocat.listen(
        "--allow-origin", f"http://127.0.0.1:{ws_port}", f"ws-l:127.0.0.1:{ws_port}", "cmd:cat"
    )
    reports = Reports(CROSS_SITE_PAGE % {"port": ws_port})
    chrome = start_chromium(browser, f"http://127.0.0.1:{reports.port}/", tmp_path / "profile")
    assert reports.wait(chrome) == ["refused"]
    err = stop(websocat, proc)
    assert f"origin http://127.0.0.1:{reports.port} is not allowed (--allow-origin)\n" in err


OWN_PAGE = """<!doctype html><html><body><script>
const report = (r) => fetch('http://127.0.0.1:%(reports)d/report?result=' + encodeURIComponent(r), {mode: 'no-cors'});
const ws = new WebSocket('ws://' + location.host + '/chat');
ws.onopen = () => ws.send('hello from our own page');
ws.onmessage = (e) => { report('echo:' + e.data); ws.close(1000); };
ws.onerror = () => report('error');
</script></body></html>"""


def test_browser_page_served_by_static_file_echoes(websocat: Websocat, tmp_path: Path) -> None:
    browser = chromium()
    ws_port = free_port()
    reports = Reports()
    (tmp_path / "page.html").write_text(OWN_PAGE % {"reports": reports.port})
    proc, _port = websocat.listen(
        "-F", "/index.html:text/html:page.html", "--restrict-uri", "/chat",
        "--allow-origin", f"http://127.0.0.1:{ws_port}", f"ws-l:127.0.0.1:{ws_port}", "mirror:"
    )  # fmt: skip
    chrome = start_chromium(browser, f"http://127.0.0.1:{ws_port}/index.html", tmp_path / "profile")
    assert reports.wait(chrome) == ["echo:hello from our own page"]
    err = stop(websocat, proc)
    assert all("/favicon.ico is not /chat" in line for line in err.splitlines() if "refused" in line), err


def test_refusals_and_static_files_are_no_session_for_exit_after_one_session(
    websocat: Websocat, tmp_path: Path
) -> None:
    (tmp_path / "a.txt").write_text("a")
    proc, port = websocat.listen(
        "--exit-after-one-session", "--restrict-uri", "/ws", "-F", "/a:text/plain:a.txt", "ws-l:127.0.0.1:0", "mirror:"
    )
    assert status(port, "/a") == "HTTP/1.1 200 OK"
    assert status(port, "/b", UPGRADE) == "HTTP/1.1 404 Not Found"
    assert proc.poll() is None
    assert echo(f"ws://127.0.0.1:{port}/ws") == "ping"
    _out, err = websocat.finish(proc)
    assert proc.returncode == 0, err


def test_oneshot_refused_client_ends_the_process(websocat: Websocat) -> None:
    proc, port = websocat.listen("--oneshot", "--restrict-uri", "/ws", "ws-l:127.0.0.1:0", "mirror:")
    assert status(port, "/b", UPGRADE) == "HTTP/1.1 404 Not Found"
    _out, err = websocat.finish(proc)
    assert proc.returncode == 4 and err.count(b"\n") == 1, err
    assert err.startswith(b"websocat: refused 127.0.0.1:") and err.endswith(b": path /b is not /ws (--restrict-uri)\n")
