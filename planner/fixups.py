"""Phase 2: fixups, named passes that turn user-level stacks into low-level ones.

Each pass takes an Invocation and returns a new one; `--no-fixups` skips them all,
`check_plan` runs regardless and rejects what cannot be rendered.
"""

from __future__ import annotations

from dataclasses import replace
from argparse import Namespace
from typing import Any, Callable

from websocat.planner.model import BRIDGES, BareAddress, Invocation, Kind, Overlay, Role, SpecError, Stack, fits, gives
from websocat.planner.parse import _BARE_ADDRESS
from websocat.planner.session import PROCESS_LEVEL, Exchange, Running, Serving
from websocat.planner.specs.chunking import LineChunks, StreamChunks
from websocat.planner.specs.kinds import TaggedKinds
from websocat.planner.specs.log import Log
from websocat.planner.specs import proxy
from websocat.planner.specs import redirects as hop
from websocat.planner.specs.process import check_exit_on_disconnect, exec_dup2
from websocat.planner.specs.registry import sender_kind
from websocat.planner.specs.reconnect import chunk_under_reopeners
from websocat.planner.specs.reuse import SimpleReuser
from websocat.planner.specs.splitoff import insert_filters, insert_write_splitoff
from websocat.planner.specs.tee import insert_tee
from websocat.planner.specs.tcp import TcpConnect, TcpConnectByEarlyHostname, TcpConnectByLateHostname, TcpListen
from websocat.planner.specs.tls import TlsAccept, TlsClient, TlsListen
from websocat.planner.specs.trivial import MessageMirror, Mirror, Stdio
from websocat.planner.specs.ws import (
    WsAccept,
    WsAcceptUpgrade,
    WsConnect,
    WsFramedClient,
    WsListen,
    WsRequest,
    WssListen,
    WssUrl,
    WsUrl,
)
from websocat.planner.specs import all_spec_classes, bind_layer, bind_stack, check_option_values
from websocat.planner.values import ip_host_port, request_target

Fixup = Callable[[Invocation], Invocation]


def _map_stacks(inv: Invocation, fn: Callable[[Stack, Stack | None], Stack]) -> Invocation:
    """Apply fn(stack, other) to every stack: a side's other is the other side; the other of
    a stack an option added (--tee, --filter, ...) is the right side, whose data it carries."""
    left, right = inv.left, inv.right
    assert left is not None
    return inv.map_stacks(lambda role, stack: fn(stack, left if role is Role.RIGHT else right))


def server_shorthand(inv: Invocation) -> Invocation:
    """-s: SPEC1 given as a port or host:port becomes a `ws-l:` server (port alone: 127.0.0.1),
    a `wss-l:` one with --tls-cert."""
    left = inv.left
    if not inv.opts.server or left is None or not isinstance(left.endpoint, BareAddress):
        return inv
    text = left.endpoint.text
    host, port = ip_host_port(text if ":" in text else f"127.0.0.1:{text}", "-s")
    listen = WssListen if inv.opts.tls_cert is not None else WsListen  # -s with --tls-cert serves wss://
    return inv.with_(left=Stack(listen(host, port), source=left.source))


def simple_server(left: Stack, opts: Namespace) -> bool:
    """True for the left side that -s made from a port or host:port (websocat v1's simple server mode)."""
    return bool(opts.server and _BARE_ADDRESS.match(left.source))


def default_stdio(inv: Invocation) -> Invocation:
    """A missing SPEC2 means stdin/stdout."""
    if inv.right is not None:
        return inv
    return inv.with_(right=Stack(Stdio(), source="-"))


def expand_websocket(inv: Invocation) -> Invocation:
    """ws://h:p/path -> ws-c: over tcp:h:p (wss://: over tls: too); ws-l:a:p -> ws-upgrade: over
    tcp-l:a:p (wss-l:: over tls-accept: too); ssl-l:a:p -> tls-accept: over tcp-l:a:p.

    With --proxy, --socks5 or --proxy-from-env the URL's connection goes through the proxy
    (planner/specs/proxy.py) in place of tcp:; tls: and ws-c: go on over the tunnel."""

    def expand(stack: Stack, _other: Stack | None) -> Stack:
        ep = stack.endpoint
        if isinstance(ep, WsUrl) and inv.opts.follow_redirects is not None:
            return _followed(stack, ep, inv.opts)
        if isinstance(ep, WsUrl):
            # --proxy, --socks5, --proxy-from-env: the proxied connection; else tcp:
            tcp = proxy.route(ep.host, ep.port, isinstance(ep, WssUrl), inv.opts) or TcpConnect.from_value(
                f"[{ep.host}]:{ep.port}"
            )
            layers: tuple[Overlay, ...] = (
                *stack.overlays,
                WsConnect(uri=ep.path, host=ep.host_header, authorization=ep.authorization),
            )
            if isinstance(ep, WssUrl):
                layers = (*layers, TlsClient(domain=ep.host))
            return Stack(tcp, layers, stack.source)
        if isinstance(ep, TlsListen):
            return Stack(TcpListen(ep.host, ep.port), (*stack.overlays, TlsAccept()), stack.source)
        if isinstance(ep, WssListen):
            layers = (*stack.overlays, WsAccept(), TlsAccept())
            return Stack(TcpListen(ep.host, ep.port), layers, stack.source)
        if isinstance(ep, WsListen):
            return Stack(TcpListen(ep.host, ep.port), (*stack.overlays, WsAccept()), stack.source)
        return stack

    return _map_stacks(inv, expand)


def _followed(stack: Stack, ep: WsUrl, opts: Namespace) -> Stack:
    """--follow-redirects: the URL's stack with its target taken from the hop (resolved
    at each hop; TLS when the hop is wss://), under the overlay that opens it again at
    each redirect."""
    secure = isinstance(ep, WssUrl)
    tcp = proxy.route(hop.HOST, hop.PORT, secure, opts) or TcpConnectByLateHostname(hop.HOST, hop.PORT)
    if isinstance(tcp, proxy.EnvProxyConnect):
        tcp = replace(tcp, secure=hop.SECURE)
    url = f"{'wss' if secure else 'ws'}://{ep.host_header}{ep.path}"
    layers = (
        *stack.overlays,
        hop.FollowRedirects(url=url),
        WsConnect(uri=hop.URI, host=hop.HOST_HEADER, authorization=ep.authorization),
        TlsClient(domain=hop.HOST, enabled=hop.SECURE),
    )
    return Stack(tcp, layers, stack.source)


def resolve_hostnames(inv: Invocation) -> Invocation:
    """tcp:name:port resolves once in the script before serving, or per connect with --late-resolve."""
    late = inv.opts.late_resolve

    def resolve(stack: Stack, _other: Stack | None) -> Stack:
        ep = stack.endpoint
        if type(ep) is TcpConnect:
            cls = TcpConnectByLateHostname if late else TcpConnectByEarlyHostname
            return replace(stack, endpoint=cls(ep.host, ep.port))
        return stack

    return _map_stacks(inv, resolve)


def apply_ws_c_uri(inv: Invocation) -> Invocation:
    """--ws-c-uri is the request target of an explicit ws-c: or ws-r: (not one made from a
    ws:// URL); a full URL gives Host and Basic auth too, as websocat4 splits it."""
    if not inv.opts.ws_c_uri:
        return inv
    uri, host, authorization = request_target(inv.opts.ws_c_uri)

    def apply(stack: Stack, _other: Stack | None) -> Stack:
        layers = tuple(
            (
                replace(layer, uri=uri, host=host, authorization=authorization)
                if isinstance(layer, (WsConnect, WsRequest)) and layer.host is None
                else layer
            )
            for layer in stack.overlays
        )
        return replace(stack, overlays=layers)

    return _map_stacks(inv, apply)


def tls_domain(inv: Invocation) -> Invocation:
    """tls: verifies --tls-domain if given, else the host of the TCP connection under it."""

    def domain(stack: Stack, _other: Stack | None) -> Stack:
        if not any(isinstance(o, TlsClient) for o in stack.overlays):
            return stack
        name = getattr(stack.endpoint, "host", None)
        layers = []
        for layer in stack.overlays:
            if isinstance(layer, TlsClient) and layer.domain is None:  # no --tls-domain
                if not name:
                    raise SpecError(f"argument {stack.source!r}: tls: needs --tls-domain (no host under it to verify)")
                layer = replace(layer, domain=name)
            layers.append(layer)
        return replace(stack, overlays=tuple(layers))

    return _map_stacks(inv, domain)


# --log-traffic puts log: right over these families' endpoints: the network, socket and
# process ones, whose bytes are the traffic (websocat4's insert_log_overlay lists the same
# kinds; stdio:, files, literals, mirror:, mock and registry endpoints are left alone).
TRAFFIC_FAMILIES = frozenset({"tcp", "proxy", "udp", "unix", "fd", "process"})


def _with_log(stack: Stack) -> Stack | None:
    """The stack with a log: where websocat4 puts one, itself if it has one, None if there
    is no such place: right over tls: (the plaintext), else right over a network endpoint."""
    for at in range(len(stack.overlays) - 1, -1, -1):  # innermost overlay first
        layer = stack.overlays[at]
        if isinstance(layer, Log):
            return stack
        if isinstance(layer, TlsClient):
            return replace(stack, overlays=(*stack.overlays[:at], Log(), *stack.overlays[at:]))
    if type(stack.endpoint).__module__.rpartition(".")[2] in TRAFFIC_FAMILIES:
        return replace(stack, overlays=(*stack.overlays, Log()))
    return None


def insert_log(inv: Invocation) -> Invocation:
    """--log-traffic: a log: on the right side where it fits (over the TCP connection under
    ws://, over tls: for wss://), else on the left; a warning if neither has a place."""
    if not inv.opts.log_traffic:
        return inv
    if inv.opts.exec_dup2 is not None:
        return inv.warn("--log-traffic has no effect with --exec-dup2: the program is handed the socket itself")
    for role in ("right", "left"):
        stack = getattr(inv, role)
        placed = _with_log(stack) if stack is not None else None
        if placed is not None:
            return inv.with_(**{role: placed})
    return inv.warn(
        "--log-traffic: no side has a network, socket or process endpoint to log over; put log: in a specifier"
    )


def choose_mirror(inv: Invocation) -> Invocation:
    """mirror: facing messages echoes whole messages (flags kept); facing bytes, bytes.

    What it faces is the innermost overlay over it that takes one kind (`defragment:mirror:`;
    log: takes either), or with no such overlay the other side (for a --tee node, tee:,
    which carries messages)."""
    left, right = inv.left, inv.right

    def choose(role: Role, stack: Stack) -> Stack:
        if type(stack.endpoint) is not Mirror:
            return stack
        other = left if role is Role.RIGHT else right
        kinds = [o.accepts for o in reversed(stack.overlays) if o.accepts is not None]
        faces: Kind | None
        if kinds:
            faces = kinds[0]  # the innermost overlay that takes one kind
        elif role is Role.TEE:
            faces = Kind.MESSAGES
        else:
            faces = other.provides if other is not None else None
        if faces is Kind.MESSAGES:
            return replace(stack, endpoint=MessageMirror())
        return stack

    return inv.map_stacks(choose)


# The layers that turn a byte stream into WebSocket messages (ws://, ws-l:, ws-c:, ws-upgrade:, ws-ll-*:).
WEBSOCKET_LAYERS = (WsConnect, WsAccept, WsFramedClient)


def insert_kinds(inv: Invocation) -> Invocation:
    """--text-prefix, --binary-prefix, --base64, --base64-text: the kinds overlay right over
    each WebSocket of the two sides (over both when both are WebSockets, as websocat v1
    applies them to every WebSocket)."""
    opts = inv.opts
    if opts.text_prefix is None and opts.binary_prefix is None and not opts.base64 and not opts.base64_text:
        return inv

    def tag(role: Role, stack: Stack) -> Stack:
        if role not in (Role.LEFT, Role.RIGHT):
            return stack
        at = next((i for i, o in enumerate(stack.overlays) if isinstance(o, WEBSOCKET_LAYERS)), None)
        if at is None:
            return stack
        return replace(stack, overlays=(*stack.overlays[:at], TaggedKinds(), *stack.overlays[at:]))

    return inv.map_stacks(tag)


def insert_chunker(inv: Invocation) -> Invocation:
    """Where a byte stream meets messages, add lines: (text mode, default) or chunks: (-b).

    The session carries messages when either side or any --filter/--filter-reverse stack
    does; then each of them that gives bytes gets the chunker (websocat4's rule).  With the
    kinds overlay (--base64, --text-prefix, ...) -b gives lines: too, whose lines are binary
    messages: prefixes and base64 mark whole lines."""
    left, right = inv.left, inv.right
    assert left is not None and right is not None
    tagged = any(isinstance(o, TaggedKinds) for role, s in inv.stacks for o in s.overlays)
    if inv.opts.binary:
        chunker: LineChunks | StreamChunks = LineChunks(text=False) if tagged else StreamChunks()
    else:
        chunker = LineChunks()
    carriers = (Role.LEFT, Role.RIGHT, Role.FILTER, Role.FILTER_REVERSE)
    kinds = {stack.provides for role, stack in inv.stacks if role in carriers}
    if len(kinds) == 1 or BRIDGES.get((Kind.BYTES, Kind.MESSAGES)) != "chunker":
        return inv
    return inv.map_stacks(
        lambda role, stack: stack.wrapped(chunker) if role in carriers and stack.provides is Kind.BYTES else stack
    )


def insert_reuser(inv: Invocation) -> Invocation:
    """reuse-raw: on the right when the sessions carry messages, the left serves many
    (a listener, no --oneshot) and the right prefers being single (stdio:, udp-bind:,
    appendfile:, ...): one is opened and shared instead of one per session, as websocat4
    does.  --less-fixups: not."""
    left, right = inv.left, inv.right
    assert left is not None and right is not None
    if inv.opts.less_fixups or left.provides is not Kind.MESSAGES or not left.listener or inv.opts.oneshot:
        return inv
    if any(isinstance(o, SimpleReuser) for o in (*left.overlays, *right.overlays)):
        return inv  # websocat4: a reuser on the left serves one session; one on the right is there
    if not right.endpoint.prefers_being_single(inv.opts):
        return inv
    return inv.with_(right=right.wrapped(SimpleReuser()))


def share_reused(inv: Invocation) -> Invocation:
    """Each overlay that opens the stack under it apart (reuse-raw: and broadcast: once for
    all sessions, autoreconnect: and foreachmsg: again and again) becomes an endpoint
    holding that stack (nested ones too, as websocat4's maybe_process_reuser): its
    ``as_endpoint``.  Always run, last, after the lints (which see the stacks as the user
    and fixups made them)."""

    def share(role: Role | None, stack: Stack) -> Stack:
        at = next((i for i, o in enumerate(stack.overlays) if hasattr(o, "as_endpoint")), None)
        if at is None:
            return stack
        overlay: Any = stack.overlays[at]
        under = share(None, replace(stack, overlays=stack.overlays[at + 1 :]))
        return Stack(overlay.as_endpoint(under, inv, role), stack.overlays[:at], stack.source)

    return inv.map_stacks(share)


FIXUPS: tuple[Fixup, ...] = (
    server_shorthand,  # -s 1234 -> ws-l:127.0.0.1:1234
    default_stdio,  # no SPEC2 -> stdio
    expand_websocket,  # ws:// -> ws-c: over tcp:, ws-l: -> ws-upgrade: over tcp-l:
    resolve_hostnames,  # skipped per connect with --late-resolve
    apply_ws_c_uri,
    insert_log,  # --log-traffic
    choose_mirror,  # mirror: facing messages -> message mirror
    insert_write_splitoff,  # --write-splitoff -> write-splitoff: over the right side
    insert_tee,  # --tee -> tee: over the right side; lines:/chunks: under it and on the nodes
    chunk_under_reopeners,  # lines:/chunks: under autoreconnect: and foreachmsg: over bytes
    sender_kind,  # registry-send: sends what the left side gives
    insert_kinds,  # --base64, --text-prefix, ... -> the kinds overlay over each WebSocket
    insert_chunker,  # bytes meet messages -> lines: / chunks:
    insert_reuser,  # a listener's sessions share stdio: & co. (reuse-raw:); not with --less-fixups
)

# After the options are bound: passes that read bound fields.
LATE_FIXUPS: tuple[Fixup, ...] = (tls_domain,)  # --tls-domain, else the TCP host


def _socket_options_scope(stack: Stack, opts: Namespace) -> Stack:
    """--exclude-ws-from-sockopts: a stack with a WebSocket layer keeps no socket options."""
    if not opts.exclude_ws_from_sockopts or getattr(stack.endpoint, "sockopts", None) is None:
        return stack
    if not any(type(layer).__module__ == "websocat.planner.specs.ws" for layer in stack.overlays):
        return stack
    endpoint: Any = stack.endpoint  # a TCP endpoint: it has the field
    return replace(stack, endpoint=replace(endpoint, sockopts=None))


def v1_directions(exchange: Exchange) -> Exchange:
    """The one-argument client form (`websocat ws://h/`) puts stdio on the right, where
    websocat v1 had it on the left: -p and --max-messages keep v1's meaning (from stdin's
    side toward the URL), so they become the reverse direction here, and vice versa."""
    return replace(
        exchange,
        preamble=exchange.preamble_reverse,
        preamble_reverse=exchange.preamble,
        max_messages=exchange.max_messages_rev,
        max_messages_rev=exchange.max_messages,
    )


def bind_options(inv: Invocation) -> Invocation:
    """Fill every option-bound field: the layers' and the process-level ones (always run)."""
    opts = inv.opts
    check_option_values(opts, [*all_spec_classes(), *PROCESS_LEVEL])
    proxy.check_proxy_options(opts)
    inv = inv.map_stacks(lambda _role, stack: _socket_options_scope(bind_stack(stack, opts), opts))
    left, right = inv.left, inv.right
    exchange = bind_layer(Exchange(), opts)
    if inv.spec2 is None and left is not None and not left.listener:
        exchange = v1_directions(exchange)
    if left is not None and left.listener and right is not None and isinstance(right.endpoint, Stdio):
        if not exchange.exit_on_eof:  # -E: stdin's EOF ends the sessions, as before
            exchange = replace(exchange, pass_right_eof=False)
    serving = bind_layer(Serving(), opts)
    if left is not None and left.listener and simple_server(left, opts):
        scheme = "wss" if any(isinstance(layer, TlsAccept) for layer in left.overlays) else "ws"
        serving = replace(serving, ready_message=f"Listening on {scheme}://{{}}/")
    if left is not None and left.listener and serving.conncap is not None:
        if any(isinstance(layer, (WsAccept, WsAcceptUpgrade)) for layer in left.overlays):
            serving = replace(serving, conncap_http=True)
    return inv.with_(exchange=exchange, serving=serving, running=bind_layer(Running(), opts))


def share_port(inv: Invocation) -> Invocation:
    """--workers N: the left TCP listener binds with SO_REUSEPORT in each of the N processes."""
    workers = inv.running.workers
    if workers is None:
        return inv
    if workers < 1:
        raise SpecError(f"option '--workers': expected a number of processes, 1 or more, got {workers}")
    left = inv.left
    if left is None or not isinstance(left.endpoint, TcpListen):
        raise SpecError("--workers needs a TCP listener on the left (tcp-l:, ws-l:, -s, wss-l:)")
    if workers == 1:
        return inv
    endpoint = left.endpoint
    if endpoint.port == 0:
        raise SpecError("--workers needs a fixed port: with port 0 each worker would listen on a port of its own")
    sockopts = dict(endpoint.sockopts or {}, reuseport=True)
    return inv.with_(left=replace(left, endpoint=replace(endpoint, sockopts=sockopts)))


def apply_fixups(inv: Invocation) -> Invocation:
    """Run every fixup pass in order (none with --no-fixups), bind the options, check the plan."""
    if not inv.opts.no_fixups:
        for fixup in FIXUPS:
            inv = fixup(inv)
    inv = exec_dup2(inv)  # an option that changes the right side's kind: not a fixup to skip
    inv = insert_filters(inv)  # --filter wiring: not a fixup to skip either
    inv = bind_options(inv)
    inv = share_port(inv)  # --workers
    if not inv.opts.no_fixups:
        for fixup in LATE_FIXUPS:
            inv = fixup(inv)
    check_plan(inv)
    return inv


def _where(inv: Invocation, role: Role, stack: Stack) -> str:
    """How an error names a stack: 'argument 1 ...' for a side, "option '--tee' ..." otherwise."""
    if role is Role.LEFT:
        return f"argument 1 {stack.source!r}"
    if role is Role.RIGHT:
        return f"argument 2 {stack.source!r}"
    return f"option '{role.label}' {stack.source!r}"


def check_plan(inv: Invocation) -> None:
    """Reject what cannot run: unknown bare words, unexpanded shorthands, kind mismatches,
    option-added stacks that no layer uses (bad option values, such as a header without a
    colon, failed when they were bound)."""
    if inv.right is None:
        raise SpecError("missing SPEC2 (with --no-fixups it is not filled in with stdio)")
    check_exit_on_disconnect(inv)
    used: dict[Role, Kind] = {}  # the kind each used role's stacks must give
    for role, stack in inv.stacks:
        ep = stack.endpoint
        where = _where(inv, role, stack)
        if isinstance(ep, BareAddress):
            hint = f"; did you mean -s {ep.text} (a WebSocket server) or tcp:{ep.text}?"
            raise SpecError(f"{where}: no prefix{hint}")
        if isinstance(ep, (WsUrl, WsListen, TlsListen)) or type(ep) is TcpConnect:
            raise SpecError(f"{where}: '{ep.prefix}' is a shorthand that needs the planner's fixups (drop --no-fixups)")
        inner = ep.provides
        for layer in reversed(stack.overlays):
            if not fits(layer, inner):
                assert layer.accepts is not None
                raise SpecError(
                    f"{where}: '{layer.prefix}' expects {layer.accepts.value} but the layer under it gives {inner.value}"
                )
            for uses in layer.uses:
                used[uses] = Kind.MESSAGES if uses is Role.TEE else inner
            inner = gives(layer, inner)
    for role, stack in inv.stacks:
        if role in (Role.LEFT, Role.RIGHT):
            continue
        where = _where(inv, role, stack)
        if role not in used:
            raise SpecError(f"{where}: no {role.value}: overlay uses it (--no-fixups and --less-fixups insert none)")
        if stack.provides is not used[role]:
            raise SpecError(
                f"{where}: gives {stack.provides.value} where {used[role].value} are needed; add lines: or chunks: to it"
            )
    assert inv.left is not None
    if inv.left.provides is not inv.right.provides:
        raise SpecError(
            f"left side gives {inv.left.provides.value} but right side gives {inv.right.provides.value}; "
            "add lines: or chunks: to the byte side"
        )
