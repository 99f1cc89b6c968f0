"""reuse-raw: in the planner: both prefixes, when the fixup inserts it (websocat4's
maybe_insert_reuser), --less-fixups, and the shared stack it becomes."""

from __future__ import annotations

import pytest

from websocat.planner import fixups
from websocat.planner.model import Invocation, SpecError
from websocat.planner.options import parse_args
from websocat.planner.parse import parse, parse_stack
from websocat.planner.pipeline import plan
from websocat.planner.specs.chunking import LineChunks
from websocat.planner.specs.reuse import SimpleReuser, SimpleReuserEndpoint
from websocat.planner.specs.trivial import MessageMirror, Stdio


def before_reuser(*argv: str) -> Invocation:
    """The invocation as the reuser fixup gets it (the fixups before it applied)."""
    opts = parse_args(list(argv))
    inv = parse(Invocation(opts=opts, argv=argv, spec1=opts.spec1, spec2=opts.spec2))
    for fixup in fixups.FIXUPS[: fixups.FIXUPS.index(fixups.insert_reuser)]:
        inv = fixup(inv)
    return inv


def test_both_prefixes_are_one_class() -> None:
    assert parse_stack("reuse-raw:mirror:").overlays == (SimpleReuser(),)
    assert parse_stack("raw-reuse:mirror:").overlays == (SimpleReuser(),)


@pytest.mark.parametrize(
    "argv",
    [
        ["ws-l:127.0.0.1:1", "-"],
        ["-s", "1234"],
        ["-b", "udp-server:127.0.0.1:1", "udp-bind:127.0.0.1:2"],
        ["ws-l:127.0.0.1:1", "appendfile:log"],
        ["ws-l:127.0.0.1:1", "writefile:out"],
        ["--exit-after-one-session", "ws-l:127.0.0.1:1", "-"],  # websocat4 looks at --oneshot only
    ],
)
def test_inserted_for_a_listener_whose_sessions_would_share(argv: list[str]) -> None:
    inv = before_reuser(*argv)
    assert fixups.insert_reuser(inv).right == inv.right.wrapped(SimpleReuser())


@pytest.mark.parametrize(
    "argv",
    [
        ["--less-fixups", "ws-l:127.0.0.1:1", "-"],
        ["--oneshot", "ws-l:127.0.0.1:1", "-"],
        ["tcp-l:127.0.0.1:1", "-"],  # bytes: sessions do not share
        ["ws://127.0.0.1:1/"],  # no listener
        ["ws-l:127.0.0.1:1", "mirror:"],  # one per session is fine
        ["--write-file-no-overwrite", "ws-l:127.0.0.1:1", "writefile:out"],
        ["ws-l:127.0.0.1:1", "reuse-raw:-"],  # there already
    ],
)
def test_not_inserted(argv: list[str]) -> None:
    inv = before_reuser(*argv)
    assert fixups.insert_reuser(inv) == inv


def test_the_stack_under_it_becomes_the_shared_one() -> None:
    got = plan(["--reuser-tolerate-torn-msgs", "ws-l:127.0.0.1:1", "reuse-raw:reuse-raw:mirror:"])
    outer = got.right.endpoint
    assert got.right.overlays == ()
    assert isinstance(outer, SimpleReuserEndpoint) and outer.tolerate_torn_msgs
    inner = outer.shared.endpoint
    assert isinstance(inner, SimpleReuserEndpoint) and inner.shared.endpoint == MessageMirror()
    auto = plan(["ws-l:127.0.0.1:1", "-"]).right.endpoint
    assert isinstance(auto, SimpleReuserEndpoint) and not auto.tolerate_torn_msgs
    assert auto.shared.overlays[0].__class__ is LineChunks and auto.shared.endpoint == Stdio()


def test_it_wants_messages_under_it() -> None:
    with pytest.raises(SpecError, match="'reuse-raw:' expects messages but the layer under it gives bytes"):
        plan(["ws-l:127.0.0.1:1", "reuse-raw:tcp:127.0.0.1:2"])


def test_lints_see_the_endpoint_under_the_reuser() -> None:
    """The shared stack is made after the lints: stdio: under the inserted reuser still
    gets the --global-timeout-ms warning."""
    got = plan(["--global-timeout-ms", "10", "ws-l:127.0.0.1:1", "-"])
    assert isinstance(got.right.endpoint, SimpleReuserEndpoint)
    assert any(w.startswith("--global-timeout-ms with stdio:") for w in got.warnings)
