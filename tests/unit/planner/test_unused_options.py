"""The lint for options that do nothing (websocat4's "lints for unused options"): an option
given that no layer of the plan, the planner or the process level takes gets one warning."""

from __future__ import annotations

import pytest

from websocat.planner.model import Invocation
from websocat.planner.pipeline import plan, warnings_of


def warnings(*argv: str) -> list[str]:
    return list(warnings_of(plan(list(argv))))


def unused(*argv: str) -> list[str]:
    return [w for w in warnings(*argv) if "has no effect here" in w]


def test_an_option_no_layer_takes_is_named_once() -> None:
    assert unused("--udp-server-qlen", "3", "-b", "tcp:127.0.0.1:1", "mirror:") == [
        "--udp-server-qlen has no effect here: no udp-server-fd: or udp-server-fdname: or udp-server: in this command"
    ]
    assert unused("--udp-server-qlen", "3", "-b", "udp-server:127.0.0.1:1", "mirror:") == []


def test_a_kind_in_the_plan_that_does_not_use_it() -> None:
    # --tcp-race-interval-ms races a host name's addresses; an IP address has one
    got = unused("--tcp-race-interval-ms", "5", "tcp:127.0.0.1:1", "mirror:")
    assert got == ["--tcp-race-interval-ms has no effect here: the tcp: in this command does not use it"]
    assert unused("--tcp-race-interval-ms", "5", "tcp:localhost:1", "mirror:") == []


def test_no_lints_silences_it() -> None:
    assert warnings("--no-lints", "--udp-server-qlen", "3", "-b", "tcp:127.0.0.1:1", "mirror:") == []


def test_proxy_options_without_a_ws_client() -> None:
    assert unused("--socks5", "127.0.0.1:1", "tcp:127.0.0.1:1", "mirror:") == [
        "--socks5 has no effect here: no ws:// or wss:// client with --socks5 in this command"
    ]
    assert unused("--socks5", "127.0.0.1:1", "--socks5-user-pass", "a:b", "ws://h/") == []
    got = unused("--proxy-from-env", "--proxy", "http://127.0.0.1:1", "ws://h/")
    assert got == [
        "--proxy-from-env has no effect here: no ws:// or wss:// client without --proxy or --socks5 in this command"
    ]


def test_listener_options_where_nothing_listens() -> None:
    got = unused("--stdout-announce-listening-ports", "tcp:127.0.0.1:1", "mirror:")
    assert got == ["--stdout-announce-listening-ports has no effect here: nothing in this command listens"]


@pytest.mark.parametrize(
    "argv",
    [
        # options a dedicated lint already names: not named twice
        ["--separator", "44", "-b", "tcp:127.0.0.1:1", "mirror:"],
        ["--oneshot", "tcp:127.0.0.1:1", "mirror:"],
        ["--log-hex", "tcp:127.0.0.1:1", "mirror:"],
        ["--exec-chdir", "/", "tcp:127.0.0.1:1", "mirror:"],
    ],
)
def test_one_message_per_option(argv: list[str]) -> None:
    assert len(warnings(*argv)) == 1 and unused(*argv) == []


@pytest.mark.parametrize(
    "argv",
    [
        # socket options on a stack, and dropped from WebSocket stacks by --exclude-ws-from-sockopts
        ["--socket-nodelay", "true", "tcp:127.0.0.1:1", "-"],
        ["--socket-nodelay", "true", "--exclude-ws-from-sockopts", "-b", "tcp-l:127.0.0.1:1", "ws://127.0.0.1:2/"],
        # an option of a --tee node's stack
        ["-b", "--tee", "udp:127.0.0.1:3", "--udp-max-send-datagram-size", "100", "tcp-l:127.0.0.1:1", "ws://h/"],
        # reuse-raw:'s shared stack
        ["-b", "--udp-bind-inhibit-send-errors", "udp-server:127.0.0.1:1", "udp-bind:127.0.0.1:2"],
        ["-b", "--socket-nodelay", "true", "ws-l:127.0.0.1:1", "reuse-raw:chunks:tcp:127.0.0.1:2"],
        # process-level options
        ["-u", "--buffer-size", "100", "--global-timeout-ms", "5", "tcp:127.0.0.1:1", "mirror:"],
        ["--stdout-announce-listening-ports", "ws-l:127.0.0.1:1", "mirror:"],
    ],
)
def test_options_that_are_used_are_not_named(argv: list[str]) -> None:
    assert unused(*argv) == []


def test_compose_parts_are_judged_each_on_their_own() -> None:
    argv = ["--compose", "-b", "udp-server:127.0.0.1:1", "mirror:", "&", "--udp-server-qlen", "2", "-b"]
    got = warnings(*argv, "tcp:127.0.0.1:2", "mirror:")
    assert got == [
        "part 2: --udp-server-qlen has no effect here: no udp-server-fd: or udp-server-fdname: or udp-server: in this command"
    ]
    both = ["--compose", "--udp-server-qlen", "2", "-b", "udp-server:127.0.0.1:1", "mirror:", "&"]
    assert warnings(*both, "--udp-server-qlen", "2", "-b", "udp-server:127.0.0.1:3", "mirror:") == []


def test_the_plan_is_an_invocation_here() -> None:
    assert isinstance(plan(["tcp:127.0.0.1:1", "mirror:"]), Invocation)
