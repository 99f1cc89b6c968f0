"""Phase 3: the scenario model rendered through templates/script.py.j2 into Python source.

All decisions are made here, in Python; the template only lays the lines out.  Every
user-supplied value passes through `py_literal`, which accepts only plain data.
"""

from __future__ import annotations

import os
import shlex
from dataclasses import dataclass, field
from typing import Any

from websocat.planner.model import (
    SpecError,
    Composition,
    Invocation,
    Kind,
    Octal,
    Parallel,
    Race,
    Role,
    Sequence,
    Spec,
    Stack,
    Var,
)
from websocat.planner.session import Exchange, keywords
from websocat.planner.specs import Listening, Setup, Shared
from websocat.planner.values import hide_argv_credentials, hide_credentials

SAFE_SCALARS = (str, bytes, int, float, bool, type(None))


class SessionHandler(Var):
    """``lambda conn1: session(conn1, addrs2)``: what a listener calls per connection,
    built only from the script's own variable names."""

    def __new__(cls, conn: str, passed: list[str], suffix: str = "") -> SessionHandler:
        assert all(name.isidentifier() for name in (conn, *passed, "session" + suffix)), (conn, passed)
        return super().__new__(cls, f"lambda {conn}: session{suffix}({', '.join([conn, *passed])})")


def py_literal(value: Any) -> str:
    """repr() restricted to plain data, so no value can become code."""
    if isinstance(value, SessionHandler):
        return str(value)
    if isinstance(value, Var):  # a name, or an attribute of one (hop.host): the planner's own
        assert all(part.isidentifier() for part in value.split(".")), value
        return str(value)
    if isinstance(value, bool) or value is None:
        return repr(value)
    if isinstance(value, Octal):
        return oct(value)
    if type(value) in (str, bytes, int, float):
        return repr(value)
    if isinstance(value, (tuple, list)):
        items = ", ".join(py_literal(v) for v in value)
        if isinstance(value, tuple):
            return f"({items},)" if len(value) == 1 else f"({items})"
        return f"[{items}]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{py_literal(k)}: {py_literal(v)}" for k, v in value.items()) + "}"
    raise TypeError(f"refusing to render {type(value).__name__} into a script")


def call_text(function: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    """'mod.fn(arg, key=value)' with None-valued keywords left out."""
    parts = [py_literal(a) for a in args]
    parts += [f"{k}={py_literal(v)}" for k, v in kwargs.items() if v is not None]
    return f"{function}({', '.join(parts)})"


def comment_text(text: str) -> str:
    """Text safe inside a # comment: control characters and undecodable bytes escaped."""
    if text.isprintable():
        try:
            text.encode("utf-8")
            return text
        except UnicodeEncodeError:
            pass
    return repr(os.fsencode(text))[2:-1]


def command_text(argv: tuple[str, ...]) -> str:
    """The command line, shell-quoted, on one comment line; URL passwords shown as ***."""
    return comment_text(shlex.join(["websocat", *hide_argv_credentials(argv)]))


@dataclass
class Step:
    """One statement: `async with CALL as VAR:`, `VAR = await CALL` or `VAR = CALL`."""

    form: str
    call: str
    var: str
    comment: str = ""
    depth: int = 0


@dataclass
class Upstream:
    """A coroutine that opens a stack all sessions share (reuse-raw:) and hands it over."""

    name: str
    params: list[str]
    steps: list[Step]
    share: str  # its last statement: `await slot.share(VAR)`
    depth: int


@dataclass
class Part:
    """One invocation's functions: ``session`` and ``main`` (``session_2``, ``main_2`` for
    the second part of a --compose command line), and the coroutines of its shared stacks."""

    suffix: str
    comment: str  # above a --compose part: its own command line
    setup: list[Step]
    session_params: list[str]
    session_steps: list[Step]
    exchange: str
    exchange_comment: str
    exchange_depth: int
    main_call: str  # the last statement of main()
    upstreams: list[Upstream] = field(default_factory=list)
    main_depth: int = 1  # main_call's indentation, inside the setup steps' `async with`
    delay: str = ""  # a --compose part's --sleep-ms-before-start: the first statement of its main()


@dataclass
class Composite:
    """A --compose operator as an ``async def`` that runs its parts' mains."""

    name: str
    comment: str
    lines: list[str]


@dataclass
class Scenario:
    """What script.py.j2 needs; built by `plan_scenario`."""

    command: str
    imports: list[str]
    parts: list[Part]
    composites: list[Composite]
    run_call: str


class _Names:
    """Variable names from one counter per stem, so output is deterministic."""

    def __init__(self, suffix: str = "") -> None:
        self.used: dict[str, int] = {}
        self.suffix = suffix  # of module-level names: a --compose part's (``upstream2_1``)

    def new(self, stem: str, side: int) -> str:
        name = f"{stem}{side}"
        count = self.used.get(name, 0)
        self.used[name] = count + 1
        return name if count == 0 else f"{name}_{count + 1}"


def _layer_step(
    layer: Spec,
    inner: str | None,
    names: _Names,
    side: int,
    setup_vars: dict[int, str],
    modules: set[str],
    sockets: dict[Role, list[Var]] | None = None,
    layer_vars: dict[int, str] | None = None,
    handed: dict[int, tuple[Var, ...]] | None = None,
) -> Step:
    render = layer.render  # type: ignore[attr-defined]
    if layer.is_overlay and _overlay_setup(layer) is not None:
        if id(layer) not in (layer_vars or {}):
            raise SpecError(
                f"{layer.prefix} with files to read at start cannot be in a stack shared by the sessions (reuse-raw:)"
            )
        args, kwargs = layer.call_arguments(layer_vars[id(layer)])  # type: ignore[call-arg,index]
    elif layer.is_overlay:
        args, kwargs = layer.call_arguments()
    elif getattr(layer, "reopens", None) is not None:  # given the coroutine that opens its stack
        args, kwargs = layer.call_arguments(*(handed or {})[id(layer)])
    elif getattr(layer, "setup", None) is not None:
        args, kwargs = layer.call_arguments(setup_vars[side])  # type: ignore[call-arg]
    else:
        args, kwargs = layer.call_arguments()
    if sockets is not None:  # a layer handed option-added stacks (tee:, write-splitoff:, filters)
        more_args, more_kwargs = layer.stack_arguments(sockets)  # type: ignore[attr-defined]
        args, kwargs = (*more_args, *args), {**more_kwargs, **kwargs}
    if inner is not None:
        args = (Var(inner), *args)
    modules.add(render.module)
    var = names.new(render.var, side)
    return Step("with", call_text(f"{_short(render.module)}.{render.function}", args, kwargs), var)


def _overlay_setup(layer: Spec) -> Setup | None:
    """An overlay's step in main() (tls-accept:'s context, read from files at start), if it needs one."""
    hook: Setup | None = getattr(layer, "setup", None)
    if hook is None or not layer.needs_setup():  # type: ignore[attr-defined]
        return None
    return hook


def _overlay_setups(
    stack: Stack, side: int, names: _Names, modules: set[str], setup: list[Step], layer_vars: dict[int, str]
) -> list[tuple[str, str]]:
    """Add the setup steps of the stack's overlays to main()'s (innermost first); return
    their variables and types, and note each layer's variable in ``layer_vars``."""
    found = []
    for layer in reversed(stack.overlays):
        hook = _overlay_setup(layer)
        if hook is None:
            continue
        args = layer.setup_arguments()  # type: ignore[attr-defined]
        kwargs = layer.setup_keywords()  # type: ignore[attr-defined]
        var = names.new(hook.var, side)
        modules.add(hook.module)
        call = call_text(f"{_short(hook.module)}.{hook.function}", args, kwargs)
        setup.append(Step(hook.form, call, var, hook.comment))
        layer_vars[id(layer)] = var
        found.append((var, hook.var_type))
    return found


def _short(module: str) -> str:
    """'endpoints.tcp' -> 'tcp', the name the script imports it as."""
    return module.rpartition(".")[2]


class _Opener:
    """Steps that open stacks: each stack innermost first, after the option-added stacks
    (--tee, --filter, ...) that one of its layers is handed, which are opened the same way."""

    def __init__(
        self,
        extra: list[Numbered],
        names: _Names,
        setup_vars: dict[int, str],
        modules: set[str],
        layer_vars: dict[int, str] | None = None,
        handed: dict[int, tuple[Var, ...]] | None = None,
    ) -> None:
        self.names, self.setup_vars, self.modules = names, setup_vars, modules
        self.extra = extra  # the option-added stacks, numbered
        self.layer_vars = layer_vars or {}  # overlays' setup variables, by id(layer)
        self.handed = handed if handed is not None else {}  # reopening endpoints' arguments, by id(layer)

    def open(
        self, stack: Stack, side: int, label: str, skip_endpoint: str | None = None, note: str = ""
    ) -> tuple[list[Step], str]:
        """Steps that open `stack` (``skip_endpoint``: the variable of its endpoint, opened
        elsewhere); returns them and the outermost variable."""
        steps: list[Step] = []
        sockets: dict[Role, list[Var]] = {}
        for role in [role for layer in stack.overlays for role in layer.uses]:
            for extra_role, extra, extra_side in self.extra:
                if extra_role is role:
                    opened, var = self.open(extra, extra_side, role.label)
                    steps += opened
                    sockets.setdefault(role, []).append(Var(var))
        own = len(steps)
        if skip_endpoint is None:
            step = _layer_step(
                stack.endpoint, None, self.names, side, self.setup_vars, self.modules, handed=self.handed
            )
            steps.append(step)
            var = step.var
        else:
            var = skip_endpoint
        for overlay in reversed(stack.overlays):
            used = sockets if overlay.uses else None
            step = _layer_step(overlay, var, self.names, side, self.setup_vars, self.modules, used, self.layer_vars)
            if used is not None:
                step.comment = overlay.stack_comment(Var(var), used)
            else:
                step.comment = overlay.step_comment()
            steps.append(step)
            var = step.var
        if len(steps) > own:
            first = steps[own]
            described = f"{label}: {comment_text(hide_credentials(stack.source))}{note}"
            first.comment = f"{described}; {first.comment}" if first.comment else described
        return steps, var


Numbered = tuple[Role, Stack, int]


def _numbered(inv: Invocation) -> list[Numbered]:
    """Every stack with its number (the suffix of its variables): left 1, right 2, then the
    option-added ones in command-line order."""
    assert inv.left is not None and inv.right is not None
    extra = [(role, stack) for role, stack in inv.stacks if role not in (Role.LEFT, Role.RIGHT)]
    return [
        (Role.LEFT, inv.left, 1),
        (Role.RIGHT, inv.right, 2),
        *((role, stack, side) for side, (role, stack) in enumerate(extra, start=3)),
    ]


def _nest(steps: list[Step], depth: int) -> int:
    """Give each step its indentation; `async with` opens a block."""
    for step in steps:
        step.depth = depth
        if step.form == "with":
            depth += 1
    return depth


def _endpoint_setup(
    stack: Stack,
    side: int,
    names: _Names,
    modules: set[str],
    setup: list[Step],
    upstreams: list[Upstream],
    extra: list[Numbered],
    handed: dict[int, tuple[Var, ...]],
) -> list[tuple[str, str]]:
    """Add the setup step of the stack's endpoint, if it has one, to main()'s; return its
    variable and type.  An endpoint that shares a stack gets that stack's coroutine.  One
    that reopens a stack (autoreconnect:) has that stack's coroutine written, which its
    call is handed (noted in ``handed``), and that stack's setup steps taken as its own."""
    endpoint = stack.endpoint
    reopens: Shared | None = getattr(endpoint, "reopens", None)
    if reopens is not None:
        reopened: Stack = endpoint.reopened  # type: ignore[attr-defined]
        args, inner = _upstream(reopened, reopens, side, names, modules, setup, upstreams, extra, handed)
        handed[id(endpoint)] = args
        return inner
    hook: Setup | None = getattr(endpoint, "setup", None)
    if hook is None:
        return []
    shares: Shared | None = getattr(endpoint, "shares", None)
    if shares is not None:
        args, _inner = _upstream(endpoint.shared, shares, side, names, modules, setup, upstreams, extra, handed)  # type: ignore[attr-defined]
    else:
        args = endpoint.setup_arguments()  # type: ignore[attr-defined]
    kwargs = endpoint.setup_keywords() if hasattr(endpoint, "setup_keywords") else {}
    var = names.new(hook.var, side)
    modules.add(hook.module)
    setup.append(Step(hook.form, call_text(f"{_short(hook.module)}.{hook.function}", args, kwargs), var, hook.comment))
    return [(var, hook.var_type)]


def _upstream(
    shared: Stack,
    shares: Shared,
    side: int,
    names: _Names,
    modules: set[str],
    setup: list[Step],
    upstreams: list[Upstream],
    extra: list[Numbered],
    handed: dict[int, tuple[Var, ...]],
) -> tuple[tuple[Var, ...], list[tuple[str, str]]]:
    """The coroutine that opens ``shared`` (its own setup steps added first: its endpoint's,
    then its overlays', such as a TLS context); returns the arguments of the call that is
    given it, and the variables and types of those setup steps."""
    inner = _endpoint_setup(shared, side, names, modules, setup, upstreams, extra, handed)
    setup_vars = {side: inner[0][0]} if inner and getattr(shared.endpoint, "reopens", None) is None else {}
    layer_vars: dict[int, str] = {}
    inner += _overlay_setups(shared, side, names, modules, setup, layer_vars)
    # A shared stack opens the option stacks its layers use (tee:'s nodes) once too, as websocat4.
    used = {role for layer in shared.overlays for role in layer.uses}
    if any(getattr(stack.endpoint, "setup", None) for role, stack, _side in extra if role in used):
        raise SpecError(
            "a stack shared by the sessions (reuse-raw:) cannot use --tee/--write-splitoff stacks that resolve"
            " a hostname first: give an IP address or --late-resolve"
        )
    opener = _Opener(extra, names, setup_vars, modules, layer_vars, handed=handed)
    label = "left" if side == 1 else "right"
    steps, var = opener.open(shared, side, label)
    own = next(step for step in steps if step.comment.startswith(label + ":"))
    own.comment += f", {shares.comment}"
    depth = _nest(steps, 1)
    name = names.new(shares.function, side) + names.suffix
    params = [f"{shares.slot}: {shares.slot_type}"] + [f"{var}: {var_type}" for var, var_type in inner]
    upstreams.append(Upstream(name, params, steps, f"await {shares.slot}.{shares.method}({var})", depth))
    return (Var(name), *(Var(var) for var, _type in inner)), inner


def _exchange(left: str, right: str, kind: Kind, exchange: Exchange) -> str:
    function = "exchange_packets" if kind is Kind.MESSAGES else "exchange_bytes"
    kwargs = keywords(exchange, leave_out=() if kind is Kind.BYTES else ("buffer_size",))
    return call_text(function, (Var(left), Var(right)), kwargs)


def plan_part(inv: Invocation, suffix: str, modules: set[str], kinds: set[Kind]) -> Part:
    """One invocation's session and main; adds the runtime modules and exchange kinds it uses."""
    left, right = inv.left, inv.right
    assert left is not None and right is not None
    names = _Names(suffix)
    setup: list[Step] = []
    setup_vars: dict[int, str] = {}
    session_params: list[str] = []
    upstreams: list[Upstream] = []
    numbered = _numbered(inv)
    passed: list[str] = []
    layer_vars: dict[int, str] = {}
    handed: dict[int, tuple[Var, ...]] = {}
    for _role, stack, side in numbered:
        found = _endpoint_setup(stack, side, names, modules, setup, upstreams, numbered[2:], handed)
        if found and getattr(stack.endpoint, "reopens", None) is None:
            setup_vars[side] = found[0][0]
        for var, var_type in found + _overlay_setups(stack, side, names, modules, setup, layer_vars):
            session_params.append(f"{var}: {var_type}")
            passed.append(var)
    opener = _Opener(numbered[2:], names, setup_vars, modules, layer_vars, handed)
    if left.listener:
        listening: Listening = left.endpoint.listening  # type: ignore[attr-defined]
        conn = names.new("conn", 1)
        left_steps, left_var = opener.open(left, 1, "left", skip_endpoint=conn, note=", one session per connection")
        session_params.insert(0, f"{conn}: {listening.conn_type}")
        # What each session gets besides its connection is written out, not passed through.
        handler = SessionHandler(conn, passed, suffix) if passed else Var("session" + suffix)
        args, kwargs = left.endpoint.call_arguments()
        modules.add(listening.module)
        kwargs = {**kwargs, **keywords(inv.serving)}  # the listener's own (socket options), then serving's
        serve = call_text(f"{_short(listening.module)}.{listening.function}", (*args, handler), kwargs)
        main_call = f"await {serve}"
    else:
        left_steps, left_var = opener.open(left, 1, "left")
        main_call = f"await session{suffix}({', '.join(passed)})"
    right_steps, right_var = opener.open(right, 2, "right")
    exchange = _exchange(left_var, right_var, left.provides, inv.exchange)
    exchange_comment = ""
    if getattr(right.endpoint, "takes_over", False):
        # The right endpoint is handed the left socket itself (--exec-dup2, registry-send:): its call is the exchange.
        render = right.endpoint.render  # type: ignore[attr-defined]
        args, kwargs = right.endpoint.call_arguments()
        exchange = call_text(f"{_short(render.module)}.{render.function}", (Var(left_var), *args), kwargs)
        handover = getattr(right.endpoint, "handover", "handed the left socket itself (--exec-dup2)")
        exchange_comment = f"{right_steps[0].comment}, {handover}"
        right_steps = []
    steps = left_steps + right_steps
    depth = _nest(steps, 1)
    if not exchange_comment:
        kinds.add(left.provides)
    return Part(
        suffix=suffix,
        comment="",
        setup=setup,
        session_params=session_params,
        session_steps=steps,
        exchange=exchange,
        exchange_comment=exchange_comment,
        exchange_depth=depth,
        main_call=main_call,
        upstreams=upstreams,
        main_depth=_nest(setup, 1),
    )


def plan_scenario(plan: Composition, command: tuple[str, ...] | None = None, running: Any = None) -> Scenario:
    """The scenario model for a fixed-up, bound invocation, or a --compose tree of them
    (``command``: the whole command line; ``running``: the run's options)."""
    modules: set[str] = set()
    kinds: set[Kind] = set()
    if isinstance(plan, Invocation):
        part = plan_part(plan, "", modules, kinds)
        return Scenario(
            command=command_text(plan.argv),
            imports=_imports(modules, kinds),
            parts=[part],
            composites=[],
            run_call=call_text("run", (Var("main"),), keywords(plan.running)),
        )
    parts: list[Part] = []
    composites: list[Composite] = []
    counts: dict[str, int] = {}

    def function_for(node: Composition, root: bool = False) -> str:
        """The name of the function that runs ``node``; plans it (and its parts) first."""
        if isinstance(node, Invocation):
            suffix = f"_{len(parts) + 1}"
            part = plan_part(node, suffix, modules, kinds)
            part.comment = f"part {len(parts) + 1}: {command_text(node.argv)}"
            delay = node.running.sleep_ms_before_start
            if delay:
                part.delay = f"await asyncio.sleep({py_literal(delay / 1000)})  # --sleep-ms-before-start {delay}"
            parts.append(part)
            return "main" + suffix
        stem = type(node).__name__.lower()
        counts[stem] = counts.get(stem, 0) + 1
        name = "main" if root else f"{stem}_{counts[stem]}"
        calls = [function_for(part) + "()" for part in node.parts]
        composites.append(Composite(name, COMPOSITE_COMMENTS[type(node)], COMPOSITE_LINES[type(node)](calls)))
        return name

    function_for(plan, root=True)
    return Scenario(
        command=command_text(command or ()),
        imports=["import asyncio", "", *_imports(modules, kinds)],
        parts=parts,
        composites=composites,
        run_call=call_text("run", (Var("main"),), keywords(running)),
    )


def _parallel(calls: list[str]) -> list[str]:
    return ["async with asyncio.TaskGroup() as parts:", *(f"    parts.create_task({call})" for call in calls)]


def _sequence(calls: list[str]) -> list[str]:
    return [f"await {call}" for call in calls]


def _race(calls: list[str]) -> list[str]:
    tasks = ", ".join(f"asyncio.create_task({call})" for call in calls)
    return [
        f"parts = [{tasks}]",
        "try:",
        "    done, _running = await asyncio.wait(parts, return_when=asyncio.FIRST_COMPLETED)",
        "finally:",
        "    for part in parts:",
        "        part.cancel()  # the first part to end ends the others",
        "    await asyncio.gather(*parts, return_exceptions=True)",
        "for part in done:",
        "    part.result()  # its failure is the run's",
    ]


COMPOSITE_LINES = {Parallel: _parallel, Sequence: _sequence, Race: _race}
COMPOSITE_COMMENTS = {
    Parallel: "A & B: the parts run together; done when all are (a failure cancels the others).",
    Sequence: "A ; B: the parts run one after the other.",
    Race: "A ^ B: the parts run together until the first ends.",
}


def _imports(modules: set[str], kinds: set[Kind]) -> list[str]:
    names = sorted({"exchange_packets" if kind is Kind.MESSAGES else "exchange_bytes" for kind in kinds})
    lines = [f"from websocat.runtime import {', '.join([*names, 'run'])}"]
    for package in ("endpoints", "overlays"):
        names = sorted(m.partition(".")[2] for m in modules if m.startswith(package + "."))
        if names:
            lines.append(f"from websocat.runtime.{package} import {', '.join(names)}")
    return lines


_ENV = None


def _environment() -> Any:
    global _ENV
    if _ENV is None:
        import jinja2

        import websocat.templates

        folder = os.path.dirname(websocat.templates.__file__)
        _ENV = jinja2.Environment(
            loader=jinja2.FileSystemLoader(folder),
            undefined=jinja2.StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            autoescape=False,
        )
    return _ENV


def render_script(plan: Composition, command: tuple[str, ...] | None = None, running: Any = None) -> str:
    """Python source of the scenario (not black-formatted; --dump-spec formats it)."""
    scenario = plan_scenario(plan, command, running)
    template = _environment().get_template("script.py.j2")
    return str(template.render(s=scenario))
