"""--compose: one command line that runs several invocations, as websocat4's.

``websocat --compose A & B`` runs A and B together, ``A ; B`` one after the other,
``A ^ B`` together until the first ends; ``(`` and ``)`` group.  Each part is a whole
invocation with its own options (socket options, -b, --oneshot... affect only their
part).  Mixing operators needs parentheses, as websocat4: ``A & B ; C`` is an error,
``( A & B ) ; C`` is not.

What is the whole run's, not a part's (websocat4's "global" arguments): the dump flags,
given right after --compose (``--compose --dump-spec-phase0 A & B``) or in any part, and
the run's own options (--random-seed, --global-timeout-ms, --global-timeout-force-exit,
--exit-on-hangup), which parts may repeat but not contradict.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from typing import Any

from websocat.planner.model import Composition, Invocation, Parallel, Race, Sequence as Sequential, SpecError
from websocat.planner.options import COMPOSE_WORDS, DUMP_FLAGS, OptionError, without_dump_flags

OPERATORS: dict[str, type[Parallel] | type[Sequential] | type[Race]] = {"&": Parallel, ";": Sequential, "^": Race}
GROUPING = ("(", ")")
assert set(COMPOSE_WORDS) == {*OPERATORS, *GROUPING}

# Options of the run as a whole (run()'s keywords): parts may repeat one, not contradict it.
RUN_OPTIONS = ("random_seed", "global_timeout_ms", "global_timeout_force_exit", "exit_on_hangup", "workers")


def is_compose(argv: Sequence[str]) -> bool:
    return bool(argv) and argv[0] == "--compose"


def split(argv: Sequence[str]) -> tuple[list[str], list[str | list[str]]]:
    """argv after --compose: the leading global dump flags, then tokens (operator and
    grouping words, and each part's argv)."""
    words = list(argv[1:])
    flags = []
    while words and words[0] in DUMP_FLAGS:
        flags.append(words.pop(0))
    tokens: list[str | list[str]] = []
    part: list[str] = []
    for word in words:
        if word in OPERATORS or word in GROUPING:
            if part:
                tokens.append(part)
                part = []
            tokens.append(word)
        else:
            part.append(word)
    if part:
        tokens.append(part)
    return flags, tokens


def tree(tokens: list[str | list[str]], leaf: Callable[[list[str]], Composition]) -> Composition:
    """The composition tree of ``tokens``; ``leaf`` makes a part from its argv."""
    if not tokens:
        raise SpecError("--compose: nothing to run (give invocations separated by &, ; or ^)")
    at = 0

    def expression() -> Composition:
        nonlocal at
        parts = [operand()]
        operator: str | None = None
        while at < len(tokens) and tokens[at] != ")":
            token = tokens[at]
            assert isinstance(token, str)  # an operand always ends at an operator or ")"
            if operator is not None and token != operator:
                raise SpecError(
                    f"--compose: cannot mix '{operator}' and '{token}' without parentheses;"
                    f" group them, as in ( A {operator} B ) {token} C"
                )
            operator = token
            at += 1
            parts.append(operand(after=token))
        if operator is None:
            return parts[0]
        return OPERATORS[operator](tuple(parts))

    def operand(after: str | None = None) -> Composition:
        nonlocal at
        if at >= len(tokens):
            raise SpecError(f"--compose: an empty part after '{after}'" if after else "--compose: an empty part")
        token = tokens[at]
        if isinstance(token, list):
            at += 1
            number = sum(isinstance(t, list) for t in tokens[:at])
            try:
                return leaf(token)
            except (SpecError, OptionError) as exc:
                raise type(exc)(f"--compose part {number}: {exc}") from None
        if token == "(":
            at += 1
            inner = expression()
            if at >= len(tokens):
                raise SpecError("--compose: '(' without its ')'")
            at += 1  # the ")"
            return inner
        where = f"after '{after}'" if after else "at the start"
        raise SpecError(f"--compose: an empty part {where}" if token != ")" else "--compose: an empty part: '( )'")

    result = expression()
    if at < len(tokens):
        raise SpecError("--compose: ')' without its '('")
    return result


def leaves(node: Composition) -> list[Invocation]:
    """The invocations of a tree, in command-line order."""
    if isinstance(node, Invocation):
        return [node]
    return [inv for part in node.parts for inv in leaves(part)]


def dump_flags(argv: Sequence[str]) -> set[str]:
    """The dump flags of the whole run: given right after --compose or in any part."""
    flags, tokens = split(argv)
    found = set(flags)
    for token in tokens:
        if isinstance(token, list):
            found |= set(token) - set(without_dump_flags(token))
    return found


def command(argv: Sequence[str]) -> tuple[str, ...]:
    """The command line a dumped script runs: every dump flag left out."""
    _flags, tokens = split(argv)
    words = ["--compose"]
    for token in tokens:
        words += without_dump_flags(token) if isinstance(token, list) else [token]
    return tuple(words)


def run_options(parts: list[Invocation]) -> Any:
    """The run's options (run()'s keywords, planner/session.py Running), agreed by every
    part; --sleep-ms-before-start stays each part's."""
    chosen = parts[0].running
    for inv in parts[1:]:
        for name in RUN_OPTIONS:
            mine, theirs = getattr(chosen, name), getattr(inv.running, name)
            default = type(chosen).__dataclass_fields__[name].default
            if theirs == default or theirs == mine:
                continue
            if mine != default:
                option = "--" + name.replace("_", "-")
                raise SpecError(f"--compose: parts give different values of {option} ({mine!r} and {theirs!r})")
            chosen = replace(chosen, **{name: theirs})
    return replace(chosen, sleep_ms_before_start=None)  # each part sleeps in its own main


__all__ = ["OptionError", "command", "dump_flags", "is_compose", "leaves", "run_options", "split", "tree"]
