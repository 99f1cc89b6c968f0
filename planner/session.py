"""Process-level options: how the two sides are exchanged, how a listener serves, how
the scenario runs.  Declared like a spec's fields (`option(...)`, default written once)
and filled by the same binding pass; the phase 2 dump shows them."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from websocat.planner.specs import keyword, option
from websocat.planner.values import milliseconds, os_value


def preamble_values(items: list[str], binary: bool) -> tuple[str | bytes, ...]:
    """-p/-P values as the script passes them: text messages, bytes ones under -b (or when
    the value is not UTF-8)."""
    values = (os_value(item) for item in items)
    return tuple(v.encode() if binary and isinstance(v, str) else v for v in values)


def stats_mode(text: bool, json: bool) -> str | None:
    """--stats / --stats-json as run()'s ``stats``."""
    return "json" if json else "text" if text else None


@dataclass(frozen=True)
class Exchange:
    """The keywords of exchange_bytes / exchange_packets."""

    unidirectional: bool = option("--unidirectional", default=False)
    unidirectional_reverse: bool = option("--unidirectional-reverse", default=False)
    late_drop: bool = option("--unidirectional-late-drop", default=False)
    exit_on_eof: bool = option("--exit-on-eof", default=False)
    # False when a listener's sessions share stdin: its EOF must not close every client
    pass_right_eof: bool = keyword(True)
    preamble: tuple[str | bytes, ...] = option("--preamble", "--binary", default=(), convert=preamble_values)
    preamble_reverse: tuple[str | bytes, ...] = option(
        "--preamble-reverse", "--binary", default=(), convert=preamble_values
    )
    one_message: bool = option("--one-message", default=False)
    max_messages: int | None = option("--max-messages", default=None)
    max_messages_rev: int | None = option("--max-messages-rev", default=None)
    buffer_size: int | None = option("--buffer-size", default=None)  # exchange_bytes only
    idle_timeout_ms: int | None = option("--idle-timeout-ms", default=None, convert=milliseconds("--idle-timeout-ms"))


@dataclass(frozen=True)
class Serving:
    """The keywords of a listener's serve function (on the left)."""

    oneshot: bool = option("--oneshot", default=False)
    exit_after_one_session: bool = option("--exit-after-one-session", default=False)
    announce: bool = option("--stdout-announce-listening-ports", default=False)
    ready_message: str | None = keyword(None)  # -s PORT says where it listens, as websocat v1
    exec_after_listen: str | None = option("--exec-after-listen", default=None)
    exec_after_listen_append_port: bool = option("--exec-after-listen-append-port", default=False)
    conncap: int | None = option("--conncap", default=None)
    # a WebSocket listener's handshake answers 503 beyond --conncap (fixups.bind_options)
    conncap_http: bool = keyword(False)


@dataclass(frozen=True)
class Running:
    """The keywords of run()."""

    global_timeout_ms: int | None = option("--global-timeout-ms", default=None)
    global_timeout_force_exit: bool = option("--global-timeout-force-exit", default=False)
    sleep_ms_before_start: int | None = option("--sleep-ms-before-start", default=None)
    exit_on_hangup: bool = option("--exit-on-hangup", default=False)
    random_seed: int | None = option("--random-seed", default=None)
    workers: int | None = option("--workers", default=None)
    stats: str | None = option("--stats", "--stats-json", default=None, convert=stats_mode)


def keywords(obj: Any, leave_out: tuple[str, ...] = ()) -> dict[str, Any]:
    """The fields of ``obj`` that differ from their defaults, as call keywords."""
    return {
        f.name: getattr(obj, f.name)
        for f in fields(obj)
        if f.name not in leave_out and getattr(obj, f.name) != f.default
    }


PROCESS_LEVEL = (Exchange, Serving, Running)
