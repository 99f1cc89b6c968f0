"""Autobahn|Testsuite (wstest 0.8.2) conformance, a fast subset, as server and as client.

Runs the harness in shared/tools/autobahn (beside this checkout, or AUTOBAHN_TOOLS) with
exactly the commands of the issue: `websocat ws-l:127.0.0.1:{port} mirror:` and
`websocat {url} mirror:`.  The full run (groups 1-10) is in the closing notes.

wstest 0.8.2 (Python 2) cannot speak TLS here, so the wss server (`wss-l:`) is tested
behind a TLS tunnel: wstest talks plain TCP to a `tcp-l:` -> `tls:` relay, whose TLS
connection ends in the server under test; frames pass the relay as opaque bytes.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import Websocat

ROOT = Path(__file__).resolve().parents[2]
TOOLS = Path(os.environ.get("AUTOBAHN_TOOLS", ROOT.parent / "shared" / "tools" / "autobahn"))
# Framing, pings, reserved bits, opcodes, fragmentation, UTF-8, close handling, one case
# of each limits family, auto-fragmentation: 152 cases, about 10 s as server, 45 s as client.
CASES = (
    "1.* 2.* 3.* 4.* 5.* 6.1.* 6.2.* 6.3.* 6.4.* 6.6.* 6.8.* 6.12.* 6.21.* 7.* "
    "9.1.1 9.2.1 9.3.4 9.4.4 9.5.6 9.6.6 9.7.3 9.8.3 10.*"
)
SUMMARY = re.compile(r"^autobahn-(server|client): (\d+) passed, (\d+) failed$", re.M)


def run_harness(script: str, command: str, tmp_path: Path, env_extra: dict[str, str] | None = None) -> str:
    if not (TOOLS / script).is_file():
        pytest.skip(f"Autobahn harness not found at {TOOLS} (shared/tools/autobahn beside the checkout)")
    env = dict(os.environ, AB_CASES=CASES, XDG_CACHE_HOME=str(tmp_path), **(env_extra or {}))
    env["PATH"] = os.path.dirname(sys.executable) + os.pathsep + env.get("PATH", "")
    out = subprocess.run(["bash", str(TOOLS / script), command], env=env, capture_output=True, text=True, timeout=600)
    report = out.stdout + out.stderr
    match = SUMMARY.search(report)
    assert match, report[-3000:]
    assert out.returncode == 0 and match.group(3) == "0", report[-3000:]
    assert int(match.group(2)) == 152, report[-3000:]
    return report


def test_autobahn_server(tmp_path: Path) -> None:
    report = run_harness("test-server.sh", "websocat ws-l:127.0.0.1:{port} mirror:", tmp_path)
    assert "NO-RESULT" in report  # the table is there (and its FAILED/NO-RESULT columns read 0)


def test_autobahn_client(tmp_path: Path) -> None:
    run_harness("test-client.sh", "websocat {url} mirror:", tmp_path)


def test_autobahn_wss_server(websocat: Websocat, pki: dict[str, Path], tmp_path: Path) -> None:
    keys = ("--tls-cert", str(pki["cert"]), "--tls-key", str(pki["key"]))
    server, port = websocat.listen(*keys, "wss-l:127.0.0.1:0", "mirror:")
    try:
        tunnel = f"websocat -b tcp-l:127.0.0.1:{{port}} tls:tcp:localhost:{port}"
        report = run_harness("test-server.sh", tunnel, tmp_path, {"SSL_CERT_FILE": str(pki["ca"])})
        assert "NO-RESULT" in report
    finally:
        server.kill()
        websocat.finish(server)
