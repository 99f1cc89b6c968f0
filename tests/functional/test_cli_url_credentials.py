"""`websocat ws://user:pass@host/` against a `websockets` server: Basic auth sent, never printed."""

from __future__ import annotations

import base64

from conftest import RecordingServer, Websocat
from websockets.sync.server import ServerConnection


class HeaderRecordingServer(RecordingServer):
    """Records the Authorization headers of the first request, too."""

    authorization: list[str] | None = None

    def _handler(self, conn: ServerConnection) -> None:
        assert conn.request is not None
        if self.authorization is None:
            self.authorization = conn.request.headers.get_all("Authorization")
        super()._handler(conn)


def _server(ws_server: type[RecordingServer]) -> HeaderRecordingServer:
    # The fixture's class shuts its servers down after the test; add the recording to it.
    cls = type("Recording", (HeaderRecordingServer, ws_server), {})
    server = cls()
    assert isinstance(server, HeaderRecordingServer)
    return server


def test_userinfo_is_sent_as_basic_auth_and_hidden_from_verbose_output(
    websocat: Websocat, ws_server: type[RecordingServer]
) -> None:
    server = _server(ws_server)
    url = f"ws://alice:pa%3Ass%40word@127.0.0.1:{server.port}/x"
    out = websocat.run("-v", url, input=b"hello\n")
    assert out.returncode == 0, out.stderr
    assert server.wait_finished() == ["hello"]
    encoded = base64.b64encode(b"alice:pa:ss@word").decode()
    assert server.authorization == [f"Basic {encoded}"]
    assert b"> Authorization: Basic ***\n" in out.stderr
    assert encoded.encode() not in out.stderr and b"pa%3Ass" not in out.stderr


def test_an_explicit_authorization_header_wins(websocat: Websocat, ws_server: type[RecordingServer]) -> None:
    server = _server(ws_server)
    url = f"ws://alice:secret@127.0.0.1:{server.port}/"
    out = websocat.run("-v", "-H", "Authorization: Bearer TOKEN", url, input=b"hi\n")
    assert out.returncode == 0, out.stderr
    server.wait_finished()
    assert server.authorization == ["Bearer TOKEN"]
    assert b"> Authorization: Bearer ***\n" in out.stderr and b"TOKEN" not in out.stderr


def test_errors_do_not_print_the_password(websocat: Websocat) -> None:
    for url in ("ws://alice:secret@127.0.0.1:1:2/", "ws://alice:sec/ret@127.0.0.1:1/"):
        out = websocat.run(url, "extra-argument")
        assert out.returncode == 2 and b"secret" not in out.stderr and b"sec/" not in out.stderr
        assert out.stderr.count(b"\n") == 1 and b"Traceback" not in out.stderr
    out = websocat.run("--no-fixups", "ws://alice:secret@127.0.0.1:1/", "mirror:")  # quoted by check_plan
    assert out.returncode == 2 and b"alice:***@" in out.stderr and b"secret" not in out.stderr


def test_the_dump_header_is_hidden_and_the_dumped_script_authenticates(
    websocat: Websocat, ws_server: type[RecordingServer]
) -> None:
    server = _server(ws_server)
    out = websocat.run("--dump-spec", f"ws://bob:hunter2@127.0.0.1:{server.port}/")
    assert out.returncode == 0
    first = out.stdout.split(b"\n", 1)[0]
    assert first == f"# websocat 'ws://bob:***@127.0.0.1:{server.port}/'".encode()
    script = websocat.cwd / "run.py"
    script.write_bytes(out.stdout)
    ran = websocat.run("-x", str(script), input=b"hey\n")
    assert ran.returncode == 0, ran.stderr
    assert server.wait_finished() == ["hey"]
    assert server.authorization == ["Basic " + base64.b64encode(b"bob:hunter2").decode()]
