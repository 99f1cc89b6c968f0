"""--close-status-code, --close-reason, --connect-timeout-ms, --idle-timeout-ms, --stats:
what the planner binds, refuses and warns about."""

from __future__ import annotations

import pytest

from websocat.planner.model import SpecError
from websocat.planner.pipeline import dump_spec
from websocat.planner.specs.ws import SENDABLE_CLOSE_CODES, close_code, close_reason


@pytest.mark.parametrize("code", [1000, 1001, 1003, 1007, 1011, 1014, 3000, 4999])
def test_sendable_codes(code: int) -> None:
    assert close_code(code) == code


@pytest.mark.parametrize("code", [0, 999, 1004, 1005, 1006, 1015, 2000, 2999, 5000])
def test_codes_never_sent(code: int) -> None:
    assert code not in SENDABLE_CLOSE_CODES
    with pytest.raises(SpecError, match="cannot be sent in a Close frame"):
        close_code(code)


def test_reason_length_is_in_bytes() -> None:
    assert close_reason("é" * 61 + "x") == "é" * 61 + "x"
    with pytest.raises(SpecError, match="124 bytes"):
        close_reason("é" * 62)


def test_the_options_reach_the_script() -> None:
    script = dump_spec(
        [
            "--connect-timeout-ms",
            "700",
            "--idle-timeout-ms",
            "9000",
            "--close-status-code",
            "4000",
            "--close-reason",
            "bye",
            "--stats-json",
            "wss://example.com/",
        ]
    )
    assert "tcp.connect_any(addrs1, connect_timeout_ms=700)" in script
    assert 'tls.connect(tcp1, domain="example.com", connect_timeout_ms=700)' in script
    assert "close_code=4000" in script and 'close_reason="bye"' in script
    assert script.count("connect_timeout_ms=700") == 3
    assert "idle_timeout_ms=9000" in script
    assert 'run(main, stats="json")' in script


def test_stats_json_wins_over_stats() -> None:
    assert 'run(main, stats="text")' in dump_spec(["--stats", "literal:x", "-"])
    assert 'run(main, stats="json")' in dump_spec(["--stats", "--stats-json", "literal:x", "-"])
