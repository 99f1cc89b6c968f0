"""--compose command lines: the tree of parts (websocat4's grammar), the options each part
keeps, and the ones the whole run shares."""

from __future__ import annotations

import re

import pytest

from websocat.planner.compose import command, dump_flags, leaves, run_options, split, tree
from websocat.planner.model import Invocation, Parallel, Race, Sequence, SpecError
from websocat.planner.pipeline import plan, script_source


def shape(argv: list[str]) -> object:
    """The tree with each part as its words joined."""
    _flags, tokens = split(["--compose", *argv])

    def show(node: object) -> object:
        if isinstance(node, str):
            return node
        kind = {Parallel: "&", Sequence: ";", Race: "^"}[type(node)]  # type: ignore[index]
        return (kind, *(show(part) for part in node.parts))  # type: ignore[attr-defined]

    return show(tree(tokens, lambda words: " ".join(words)))  # type: ignore[arg-type,return-value]


@pytest.mark.parametrize(
    "argv, want",
    [
        ("a", "a"),
        ("( a )", "a"),
        ("( ( a b ) )", "a b"),
        ("a & b", ("&", "a", "b")),
        ("a & b & c", ("&", "a", "b", "c")),
        ("a ; b ; c", (";", "a", "b", "c")),
        ("a ^ b", ("^", "a", "b")),
        ("( a ) & ( b )", ("&", "a", "b")),
        ("( a & b ) ; c", (";", ("&", "a", "b"), "c")),
        ("a & ( b ; c )", ("&", "a", (";", "b", "c"))),
        ("( ( a ^ b ) & c ) ; d", (";", ("&", ("^", "a", "b"), "c"), "d")),
    ],
)
def test_tree(argv: str, want: object) -> None:
    assert shape(argv.split()) == want


@pytest.mark.parametrize(
    "argv, message",
    [
        ("", "nothing to run"),
        ("( a", "'(' without its ')'"),
        ("a )", "')' without its '('"),
        ("a &", "an empty part after '&'"),
        ("& a", "an empty part at the start"),
        ("( ) & a", "an empty part: '( )'"),
        ("a & b ; c", "cannot mix '&' and ';' without parentheses"),
        ("a ^ b & c", "cannot mix '^' and '&' without parentheses"),
    ],
)
def test_bad_trees(argv: str, message: str) -> None:
    with pytest.raises(SpecError, match=re.escape(message)):
        shape(argv.split())


def test_each_part_keeps_its_own_options() -> None:
    """Socket options, -b and --oneshot act on their own part only."""
    ws = "ws://127.0.0.1:9/"
    argv = ["--compose", "--socket-ttl", "7", "--oneshot", "-b", "tcp-l:127.0.0.1:1", ws, "&", "tcp-l:127.0.0.1:2", ws]
    first, second = leaves(plan(argv))
    assert first.left.endpoint.sockopts == {"socket_ttl": 7}  # type: ignore[union-attr]
    assert second.left.endpoint.sockopts is None  # type: ignore[union-attr]
    assert (first.serving.oneshot, second.serving.oneshot) == (True, False)
    assert [layer.prefix for layer in first.left.overlays] == ["chunks:"]  # type: ignore[union-attr]
    assert [layer.prefix for layer in second.left.overlays] == ["lines:"]  # type: ignore[union-attr]


def test_run_options_are_shared_and_must_agree() -> None:
    parts = leaves(
        plan(["--compose", "--random-seed", "5", "literal:a", "-", "&", "--global-timeout-ms", "100", "literal:b", "-"])
    )
    running = run_options(parts)
    assert (running.random_seed, running.global_timeout_ms) == (5, 100)
    with pytest.raises(SpecError, match="parts give different values of --random-seed"):
        run_options(
            leaves(
                plan(["--compose", "--random-seed", "5", "literal:a", "-", "&", "--random-seed", "6", "literal:b", "-"])
            )
        )


def test_sleep_before_start_is_each_parts() -> None:
    source, _warnings = script_source(
        ["--compose", "literal:a", "-", ";", "--sleep-ms-before-start", "250", "literal:b", "-"]
    )
    assert "await asyncio.sleep(0.25)  # --sleep-ms-before-start 250" in source
    assert "sleep_ms_before_start" not in source.rpartition("run(")[2]


def test_dump_flags_anywhere_are_the_runs_and_left_out_of_the_command() -> None:
    argv = ["--compose", "--dump-spec-phase0", "literal:a", "-", "&", "--dump-spec", "literal:b", "-"]
    assert dump_flags(argv) == {"--dump-spec-phase0", "--dump-spec"}
    assert command(argv) == ("--compose", "literal:a", "-", "&", "literal:b", "-")


def test_a_part_error_names_the_part() -> None:
    with pytest.raises(SpecError, match="^--compose part 2: argument 1 .nosuch:x.: unknown prefix"):
        plan(["--compose", "literal:a", "-", "&", "nosuch:x", "-"])


def test_single_invocation_is_not_a_tree() -> None:
    assert isinstance(plan(["literal:a", "-"]), Invocation)
