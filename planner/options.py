"""The websocat4 command line as one declarative table, and the parser built from it.

``OPTIONS`` lists every option of websocat4's ``--help`` in the manual's order.  The
parser only converts values (integers, ``true``/``false``) and collects them in an
``argparse.Namespace`` whose attribute names are the options' ``dest``; what the options
mean is the planner's business.  Errors never print argparse's usage block: they raise
:class:`OptionError` with a one-line, lower-case message.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, NoReturn

Kind = Literal["flag", "value", "append", "rest"]
ValueType = Literal["int", "str", "bool", "float"]
Default = bool | int | float | str | tuple[()] | None

DESCRIPTION = "Command-line client for web sockets, like netcat/curl/socat for ws://."
SPEC1_HELP = "Left endpoint (e.g. a WebSocket URL). May be prefixed by one or more overlays"
SPEC2_HELP = "Right endpoint (or stdout if omitted). May be prefixed by one or more overlays"


class OptionError(ValueError):
    """A command line that does not fit the option table; the message is one line."""


@dataclass(frozen=True)
class OptionSpec:
    """One command-line option as the websocat4 manual documents it.

    ``type`` is the type of the option's value (``None`` for flags); ``"bool"`` marks
    options taking ``true`` or ``false``.  ``default`` is typed: ``False`` for flags,
    the manual's ``[default: N]`` as an int, ``()`` for repeatable and rest options
    (the parsed namespace holds a fresh list), ``None`` otherwise.
    """

    long: str
    short: str | None
    dest: str
    kind: Kind
    type: ValueType | None
    metavar: str | None
    default: Default
    help: str
    group: str

    @property
    def option_strings(self) -> tuple[str, ...]:
        return (self.short, self.long) if self.short else (self.long,)

    @property
    def takes_value(self) -> bool:
        return self.kind != "flag"

    @property
    def shows_default(self) -> bool:
        """True for the options whose manual entry says ``[default: ...]``."""
        return self.kind == "value" and self.default is not None


def _dest(long: str) -> str:
    return long.removeprefix("--").replace("-", "_")


def _flag(long: str, *, short: str | None = None, group: str, help: str) -> OptionSpec:
    return OptionSpec(long, short, _dest(long), "flag", None, None, False, help, group)


def _value(
    long: str,
    type: ValueType,
    *,
    short: str | None = None,
    default: int | None = None,
    group: str,
    help: str,
) -> OptionSpec:
    return OptionSpec(
        long,
        short,
        _dest(long),
        "value",
        type,
        _dest(long).upper(),
        default,
        help,
        group,
    )


def _append(long: str, *, short: str | None = None, group: str, help: str) -> OptionSpec:
    return OptionSpec(long, short, _dest(long), "append", "str", _dest(long).upper(), (), help, group)


def _rest(long: str, *, group: str, help: str) -> OptionSpec:
    return OptionSpec(long, None, _dest(long), "rest", "str", _dest(long).upper(), (), help, group)


OPTIONS: tuple[OptionSpec, ...] = (
    _flag(
        "--dump-spec",
        group="planner/debug",
        help="do not execute this Websocat invocation, print the equivalent Python " "script instead",
    ),
    _flag(
        "--dump-spec-phase0",
        group="planner/debug",
        help="do not execute this Websocat invocation, print debug representation "
        "of specified arguments. In --compose mode it should be the second "
        "argument (i.e. just after --compose)",
    ),
    _flag(
        "--dump-spec-phase1",
        group="planner/debug",
        help="do not execute this Websocat invocation, print debug representation " "of specified arguments",
    ),
    _flag(
        "--dump-spec-phase2",
        group="planner/debug",
        help="do not execute this Websocat invocation, print debug representation " "of specified arguments",
    ),
    _flag(
        "--scenario",
        short="-x",
        group="mode",
        help="execute specified file as a Python scenario script (e.g. resulting from " "--dump-spec option output)",
    ),
    _flag(
        "--text",
        short="-t",
        group="mode",
        help="use text mode (one line = one WebSocket text message)",
    ),
    _flag(
        "--binary",
        short="-b",
        group="mode",
        help="use binary mode (arbitrary byte chunk = one WebSocket binary message)",
    ),
    _flag(
        "--late-resolve",
        group="socket options",
        help="resolve hostnames to IP addresses late (every time when forwarding a "
        "connection) instead of one time at the beginning",
    ),
    _flag(
        "--insecure",
        short="-k",
        group="tls",
        help="accept invalid domains and root certificates for TLS client connections",
    ),
    _value(
        "--tls-domain",
        "str",
        group="tls",
        help="manually specify domain for `tls:` overlay or override domain for " "`wss://` URLs",
    ),
    _flag(
        "--server",
        short="-s",
        group="mode",
        help="listen for WebSocket connections instead of establishing client " "WebSocket connection",
    ),
    _flag(
        "--log-verbose",
        group="log",
        help="log more data from `log:` overlay",
    ),
    _flag(
        "--log-omit-content",
        group="log",
        help="do not log full content of the data from `log:` overlay, just chunk " "lengths",
    ),
    _flag(
        "--log-hex",
        group="log",
        help="use hex lines instead of escaped characters for `log:`` overlay",
    ),
    _flag(
        "--log-timestamps",
        group="log",
        help="Include relative timestamps in log messages",
    ),
    _flag(
        "--log-traffic",
        group="log",
        help="automatically insert `log:` overlay in an appropriate place to debug "
        "issues by displaying traffic chunks",
    ),
    _value(
        "--ws-c-uri",
        "str",
        group="websocket",
        help="URI for `ws-c:` overlay",
    ),
    _value(
        "--read-buffer-limit",
        "int",
        group="overlays",
        help="parameter for read_chunk_limiter: overlay, defaults to 1",
    ),
    _value(
        "--write-buffer-limit",
        "int",
        group="overlays",
        help="parameter for write_chunk_limiter: overlay, defaults to 1",
    ),
    _value(
        "--separator",
        "str",
        group="text mode",
        help="override byte value that separates stdin-supplied text WebSocket "
        "messages from each other from default '\\n'",
    ),
    _value(
        "--separator-n",
        "int",
        group="text mode",
        help="require this number of newline (or other) bytes to separate " "WebSocket messages",
    ),
    _flag(
        "--separator-inhibit-substitution",
        group="text mode",
        help="prevent mangling incoming text WebSocket by replacing `\\n` (or "
        "other separator sequence) with spaces (and trimming leading and trailing "
        "separator bytes)",
    ),
    _flag(
        "--separator-inline",
        group="text mode",
        help="make separator (such as trailing \\n) a part text WebSocket "
        "messages, do not remove it when splitting messages",
    ),
    _flag(
        "--null-terminated",
        short="-0",
        group="text mode",
        help="Same as setting `--separator` to `0`. Make text mode messages "
        "separated by zero byte instead of newline",
    ),
    _value(
        "--udp-bind-target-addr",
        "str",
        group="udp",
        help="initial target sendto address for `udp-bind:` mode. If unset, it "
        "will try to send to neutral address (unsuccessfully)",
    ),
    _flag(
        "--udp-bind-restrict-to-one-address",
        group="udp",
        help="only allow incoming datagrams from specified target address for " "`upd-bind:` mode",
    ),
    _flag(
        "--udp-bind-redirect-to-last-seen-address",
        group="udp",
        help="automatically change target address for `udp-bind:` mode based in " "coming datagrams",
    ),
    _flag(
        "--udp-bind-connect-to-first-seen-address",
        group="udp",
        help="turn `udp-bind:` into `udp-connect:` as soon as we receive some "
        "datagram. Implied when `--udp-bind-target-addr` is not specified",
    ),
    _flag(
        "--udp-bind-inhibit-send-errors",
        group="udp",
        help="ignore failed `sendto` calls. Attempts to send without a configured "
        "target address are ignored implicitly",
    ),
    _value(
        "--udp-server-timeout-ms",
        "int",
        group="udp",
        help="Client timeout of udp-server: mode",
    ),
    _value(
        "--udp-server-max-clients",
        "int",
        group="udp",
        help="Maximum number of parallel handlers in udp-server: mode",
    ),
    _value(
        "--udp-server-buffer-size",
        "int",
        group="udp",
        help="Size of receive buffer for udp-server: mode. `-B` is distinct, but " "can also affect operation",
    ),
    _value(
        "--udp-server-qlen",
        "int",
        group="udp",
        help="Queue length for udp-server: mode",
    ),
    _flag(
        "--udp-server-backpressure",
        group="udp",
        help="Delay receiving more datagrams in udp-server: mode instead of " "dropping them in case of slow handlers",
    ),
    _rest(
        "--exec-args",
        group="exec",
        help="Command line arguments for `exec:` endpoint.\n\n"
        "This option is interpreted specially: it stops processing all other "
        "options uses everything after it as a part of the command line",
    ),
    _flag(
        "--exec-monitor-exits",
        group="exec",
        help="Immediately expire `cmd:` or `exec:` endpoints if child process "
        "terminates.\n\n"
        "This may discard some data that remained buffered in a pipe.",
    ),
    _value(
        "--exec-uid",
        "int",
        group="exec",
        help="On Unix, try to set uid to this numeric value for the subprocess",
    ),
    _value(
        "--exec-gid",
        "int",
        group="exec",
        help="On Unix, try to set uid to this numeric value for the subprocess",
    ),
    _value(
        "--exec-chdir",
        "str",
        group="exec",
        help="Try to change current directory to this value for the subprocess",
    ),
    _value(
        "--exec-windows-creation-flags",
        "int",
        group="exec",
        help="On Windows, try to set this numeric process creation flags",
    ),
    _value(
        "--exec-arg0",
        "str",
        group="exec",
        help="On Unix, set first subprocess's argv[0] to this value",
    ),
    _value(
        "--exec-dup2",
        "str",
        group="exec",
        help="On Unix, use dup2 and forward sockets directly to child processes "
        "(ignoring any overlays) instead of piping though stdin/stdout. Argument "
        "is comma-separated list of file descriptor slots to duplicate the socket "
        "into, e.g. `0,1` for stdin and stdout.\n\n"
        "This is a low-level option that is less tested than other things. Expect "
        "non-user-friendly error messages if misused.",
    ),
    _flag(
        "--exec-dup2-keep-nonblocking",
        group="exec",
        help="When using --exec-dup2, do not set inherited file descriptors to " "blocking mode",
    ),
    _flag(
        "--exec-dup2-execve",
        group="exec",
        help="on Unix, When using `--exec-dup2`, do not return to Websocat, "
        "instead substitute Websocat process with the given command",
    ),
    _flag(
        "--dummy-hangup",
        group="endpoints",
        help="Make dummy nodes also immediately signal hangup",
    ),
    _flag(
        "--exit-on-hangup",
        group="process",
        help="Exit the whole process if hangup is detected",
    ),
    _flag(
        "--exit-after-one-session",
        group="process",
        help="Exit the whole process after serving one connection; alternative to " "to --oneshot",
    ),
    _flag(
        "--unidirectional",
        short="-u",
        group="transfer",
        help="Transfer data only from left to right specifier",
    ),
    _flag(
        "--unidirectional-reverse",
        short="-U",
        group="transfer",
        help="Transfer data only from right to left specifier",
    ),
    _flag(
        "--unidirectional-late-drop",
        group="transfer",
        help="Do not shutdown inactive directions when using `-u` or `-U`",
    ),
    _flag(
        "--exit-on-eof",
        short="-E",
        group="transfer",
        help="Stop transferring data when one of the transfer directions reached EOF",
    ),
    _value(
        "--buffer-size",
        "int",
        short="-B",
        group="transfer",
        help="Override buffer size for main data transfer session. Note that some "
        "overlays and endpoints may have separate buffers with separately "
        "adjustable sizes.\n\n"
        "Message can span multiple over multiple fragments and exceed this buffer "
        "size",
    ),
    _flag(
        "--no-close",
        short="-n",
        group="websocket",
        help="Do not send WebSocket close message when there is no more data to " "send there",
    ),
    _flag(
        "--ws-no-flush",
        group="websocket",
        help="Do not flush after each WebSocket frame",
    ),
    _flag(
        "--ws-shutdown-socket-on-eof",
        group="websocket",
        help="Shutdown write direction of the underlying socket backing a " "WebSocket on EOF",
    ),
    _flag(
        "--ws-ignore-invalid-masks",
        group="websocket",
        help="Do not fail WebSocket connections if masked frame arrives instead of " "unmasked or vice versa",
    ),
    _flag(
        "--ws-dont-check-headers",
        group="websocket",
        help="Ignore absence or invalid values of `Sec-Websocket-*` things and " "just continue connecting",
    ),
    _flag(
        "--ws-no-auto-buffer",
        group="websocket",
        help="Do not automatically insert buffering layer after WebSocket if "
        "underlying connections does not support `writev`",
    ),
    _flag(
        "--ws-omit-headers",
        group="websocket",
        help="Skip request or response headers for Websocket upgrade",
    ),
    _append(
        "--header",
        short="-H",
        group="websocket",
        help="Add this custom header to WebSocket upgrade request when connecting "
        "to a Websocket. Colon separates name and value",
    ),
    _append(
        "--server-header",
        group="websocket",
        help="Add this custom header to WebSocket upgrade response when serving a "
        "Websocket connection. Colon separates name and value",
    ),
    _value(
        "--protocol",
        "str",
        group="websocket",
        help="Specify this Sec-WebSocket-Protocol: header when connecting to a " "WebSocket",
    ),
    _value(
        "--server-protocol",
        "str",
        group="websocket",
        help="Use this `Sec-WebSocket-Protocol:` value when serving a Websocket, "
        "and reject incoming connections if the don't specify this protocol",
    ),
    _flag(
        "--server-protocol-lax",
        group="websocket",
        help="Don't reject incoming connections that fail to specify proper "
        "`Sec-WebSocket-Protocol` header. The header would be omitted from the "
        "response in this case",
    ),
    _flag(
        "--server-protocol-choose-first",
        group="websocket",
        help="If client specifies Sec-WebSocket-Protocol, choose the first "
        "mentioned protocol and use if for response's Sec-WebSocket-Protocol",
    ),
    _flag(
        "--unlink",
        group="unix",
        help="When listening UNIX sockets, attempt to delete the file first to " "avoid the failure to bind",
    ),
    _flag(
        "--chmod-owner",
        group="unix",
        help="When listening UNIX sockets, change socket filesystem permissions to " "only allow owner connections",
    ),
    _flag(
        "--chmod-group",
        group="unix",
        help="When listening UNIX sockets, change socket filesystem permissions to "
        "allow owner and group connections",
    ),
    _flag(
        "--chmod-everyone",
        group="unix",
        help="When listening UNIX sockets, change socket filesystem permissions to "
        "allow connections from everywhere",
    ),
    _flag(
        "--oneshot",
        group="process",
        help="Serve only one connection",
    ),
    _flag(
        "--no-lints",
        group="planner/debug",
        help="Do not display warnings about potential CLI misusage",
    ),
    _flag(
        "--no-fixups",
        group="planner/debug",
        help="Do not automatically transform endpoints and overlays to their "
        "appropriate low-level form. Many things will fail in this mode",
    ),
    _flag(
        "--less-fixups",
        group="planner/debug",
        help="Inhibit some optional transformations of specifier stacks, such as " "auto-inserting of a reuser",
    ),
    _value(
        "--udp-max-send-datagram-size",
        "int",
        default=4096,
        group="udp",
        help="Maximum size of an outgoing UDP datagram. Incoming datagram size is " "likely limited by --buffer-size",
    ),
    _value(
        "--seqpacket-max-send-datagram-size",
        "int",
        default=1048576,
        group="unix",
        help="Maximum size of an outgoing SEQPACKET datagram. Incoming datagram "
        "size is likely limited by --buffer-size",
    ),
    _value(
        "--random-seed",
        "int",
        group="endpoints",
        help="Use specified random seed instead of initialising RNG from OS",
    ),
    _value(
        "--registry-connect-bufsize",
        "int",
        default=1024,
        group="endpoints",
        help="Use specified max buffer size for",
    ),
    _value(
        "--mirror-bufsize",
        "int",
        default=1024,
        group="endpoints",
        help="Use specified buffer size for mirror: endpoint",
    ),
    _flag(
        "--lengthprefixed-little-endian",
        group="lengthprefixed",
        help="Use little-endian framing headers instead of big-endian for " "`lengthprefixed:` overlay",
    ),
    _flag(
        "--lengthprefixed-skip-read-direction",
        group="lengthprefixed",
        help="Only affect one direction of the `lengthprefixed:` overlay, bypass " "transformation for the other one",
    ),
    _flag(
        "--lengthprefixed-skip-write-direction",
        group="lengthprefixed",
        help="Only affect one direction of the `lengthprefixed:` overlay, bypass " "transformation for the other one",
    ),
    _value(
        "--lengthprefixed-nbytes",
        "int",
        default=4,
        group="lengthprefixed",
        help="Use this number of length header bytes for `lengthprefixed:` overlay",
    ),
    _flag(
        "--lengthprefixed-continuations",
        group="lengthprefixed",
        help="Do not reassemble messages from fragments, stream them as chunks. "
        "Highest bit of the prefix would be set if the message is non-final",
    ),
    _value(
        "--lengthprefixed-max-message-size",
        "int",
        default=1048576,
        group="lengthprefixed",
        help="Maximum size of `lengthprefixed:` message (that needs to be "
        "reassembled from fragments)\n\n"
        "Connections would fail when messages exceed this size.\n\n"
        "Ignored if `--lengthprefixed-continuations` is active, but `nbytes`-based "
        "limitation can still fail connections.",
    ),
    _flag(
        "--lengthprefixed-include-control",
        group="lengthprefixed",
        help="Include inline control messages (i.e. WebSocket pings or close "
        "frames) as content in `lengthprefixed:`.\n\n"
        "A bit would be set to signify a control message and opcode will be "
        "prepended as the first byte.\n\n"
        "When both continuations and controls are enabled, control messages may "
        "appear between continued data message chunks. Control messages can "
        "themselves be subject to continuations.",
    ),
    _flag(
        "--lengthprefixed-tag-text",
        group="lengthprefixed",
        help="Set a bit in the prefix of `lengthprefixed:` frames when the frame "
        "denotes a text WebSocket message instead of binary",
    ),
    _value(
        "--inhibit-pongs",
        "int",
        group="websocket",
        help="Stop automatic replying to WebSocket pings after sending specified "
        "number of pongs. May be zero to just disable replying to pongs",
    ),
    _value(
        "--global-timeout-ms",
        "int",
        group="process",
        help="Abort whatever Websocat is doing after specified number of "
        "milliseconds, regardless of whether something is connected or not",
    ),
    _flag(
        "--global-timeout-force-exit",
        group="process",
        help="Force process exit when global timeout is reached",
    ),
    _value(
        "--sleep-ms-before-start",
        "int",
        group="process",
        help="Wait for this number of milliseconds before starting endpoints. "
        "Mostly intended for testing Websocat, in combination with --compose mode",
    ),
    _flag(
        "--stdout-announce-listening-ports",
        group="process",
        help="Print a line to stdout when a port you requested to be listened is " "ready to accept connections",
    ),
    _value(
        "--exec-after-listen",
        "str",
        group="process",
        help="Execute this command line after binding listening port\n\n"
        "Connections are not actually accepted until the command exits (exit code "
        "is ignored)",
    ),
    _flag(
        "--exec-after-listen-append-port",
        group="process",
        help="Append TCP or UDP port number to command line specified in "
        "--exec-after-listen\n\n"
        'Makes listening port "0" practical.',
    ),
    _flag(
        "--accept-from-fd",
        group="planner/debug",
        help="Show dedicated error message explaining how to migrate Websocat1's " "--accept-from-fd to the new scheme",
    ),
    _flag(
        "--reuser-tolerate-torn-msgs",
        group="overlays",
        help="When using `reuse-raw:` (including automatically inserted), do not "
        "abort connections on unrecoverable broken messages, instead produce a "
        "trimmed message and continue",
    ),
    _flag(
        "--compose",
        group="mode",
        help="Interpret special command line arguments like `&`, `;`, '^', `(` and "
        "`)` as separators for composed scenarios mode. This argument must come "
        "first.\n\n"
        "This allows to execute multiple sub-scenarios in one Websocat invocation, "
        "sequentially (;), in parallel (&) or in parallel with early exit (^). You "
        "can also use parentheses to combine disparate operations.",
    ),
    _flag(
        "--write-file-no-overwrite",
        group="endpoints",
        help="For `writefile:` endpoint, do not overwrite existing files",
    ),
    _flag(
        "--write-file-auto-rename",
        group="endpoints",
        help="For `writefile:` endpoint, do not overwrite existing files, instead "
        "use other, neighbouring file names",
    ),
    _value(
        "--origin",
        "str",
        group="websocket",
        help="Add Origin HTTP header to Websocket client request",
    ),
    _value(
        "--ua",
        "str",
        group="websocket",
        help="Add User-Agent HTTP header to Websocket client request",
    ),
    _flag(
        "--random-fast",
        group="endpoints",
        help="For `random:` endpoint, use smaller and faster RNG instead of secure one",
    ),
    _value(
        "--write-splitoff",
        "str",
        group="overlays",
        help="Specify the write counterpart for `write-splitoff:` overlay. Expects "
        "a specifier like `tcp:127.0.0.1:1234`, like a positional argument",
    ),
    _flag(
        "--write-splitoff-omit-shutdown",
        group="overlays",
        help="Do not write-shutdown the read part of a `write-splitoff:` overlay",
    ),
    _append(
        "--filter",
        group="transfer",
        help="Pass traffic through this socket prior to transfer data from left to "
        "right specifiers.\n\n"
        "The filter itself can be any specifier (including with overlays), e.g. "
        "`--filter=lines:tcp:127.0.0.1:1234`",
    ),
    _append(
        "--filter-reverse",
        group="transfer",
        help="Pass traffic through this socket prior to transfer data from right " "to left specifiers",
    ),
    _flag(
        "--async-fd-force",
        group="endpoints",
        help="Force using a file descriptor for `async-fd:` even when it cannot be "
        "registered for events.\n\n"
        "In case of EWOULDBLOCK Websocat would wait for some short time in a loop.\n\n"
        "In some cases the whole Websocat process may be blocked.",
    ),
    _value(
        "--defragment-max-size",
        "int",
        default=1048576,
        group="overlays",
        help="Maximum buffered message size for `defragment:` overlay",
    ),
    _append(
        "--tee",
        group="tee",
        help="Copy output datagrams also to this specifier; also merge in incoming "
        "datagrams from this specifier\n\n"
        "May insert a `tee:` overlay automatically if not specified.",
    ),
    _flag(
        "--tee-propagate-failures",
        group="tee",
        help="Cause `tee:` overlay to fail datagram read or write if any (instead "
        "of all) nodes failed the operation",
    ),
    _flag(
        "--tee-propagate-eof",
        group="tee",
        help="Cause `tee:` overlay's reading direction to propagate EOF when any "
        "of the nodes signaled EOF instead of all of them",
    ),
    _flag(
        "--tee-tolerate-torn-msgs",
        group="tee",
        help="When using `tee:`, do not abort reading side of the connections on "
        "unrecoverable broken messages, instead produce a trimmed message and "
        "continue",
    ),
    _flag(
        "--tee-use-hangups",
        group="tee",
        help="Terminate `tee:` specifier when any of the tee nodes signal hangup",
    ),
    _flag(
        "--tee-use-first-hangup",
        group="tee",
        help="Terminate `tee:` specifier when main tee node (the one after `tee:` "
        "instead of `--tee`) signals hangup",
    ),
    _flag(
        "--enable-sslkeylog",
        group="tls",
        help="When built with rustls, write encryption information to a files "
        "based on `SSLKEYLOGFILE` environment variable to assist decrypting "
        "traffic for analysis",
    ),
    _value(
        "--bind-before-connect",
        "str",
        group="socket options",
        help="Bind outgoing TCP socket to this address and/or port prior to " "connecting to the destination",
    ),
    _value(
        "--reuseaddr",
        "bool",
        group="socket options",
        help="Explicitly force SO_REUSEADDR on or off on the socket",
    ),
    _flag(
        "--reuseport",
        group="socket options",
        help="Set SO_REUSEPORT (fails if unsupported by platform)",
    ),
    _value(
        "--socket-bind-to-device",
        "str",
        group="socket options",
        help="Set SO_BINDTODEVICE (fails if unsupported by platform)",
    ),
    _value(
        "--socket-listen-backlog",
        "int",
        group="socket options",
        help="Use this backlog argument for `listen(2)` syscall. Maximum number of "
        "queued connections pending for accept(2)",
    ),
    _flag(
        "--socket-transparent",
        group="socket options",
        help="Set IP_TRANSPARENT for the socket",
    ),
    _flag(
        "--socket-freebind",
        group="socket options",
        help="Set IP_FREEBIND for the socket",
    ),
    _value(
        "--socket-tclass-v6",
        "int",
        group="socket options",
        help="Set IPV6_TCLASS for the socket, in case when it is IPv6",
    ),
    _value(
        "--socket-tos-v4",
        "int",
        group="socket options",
        help="Set IP_TOS for the socket, in case when it is IPv4",
    ),
    _value(
        "--socket-ttl",
        "int",
        group="socket options",
        help="Set IP_TTL for a IPv4 socket or IPV6_UNICAST_HOPS for an IPv6 socket",
    ),
    _value(
        "--socket-linger-s",
        "int",
        group="socket options",
        help="Set SO_LINGER for the socket",
    ),
    _flag(
        "--socket-out-of-band-inline",
        group="socket options",
        help="Set SO_OOBINLINE for the socket",
    ),
    _value(
        "--socket-only-v6",
        "bool",
        group="socket options",
        help="Set IPV6_V6ONLY for the socket in case when it is IPv6",
    ),
    _value(
        "--socket-nodelay",
        "bool",
        group="socket options",
        help="Set TCP_NODELAY (no Nagle) for the socket",
    ),
    _value(
        "--socket-tcp-congestion",
        "str",
        group="socket options",
        help="Set TCP_CONGESTION for the socket",
    ),
    _value(
        "--socket-cpu-affinity",
        "int",
        group="socket options",
        help="Set SO_INCOMING_CPU for the socket",
    ),
    _value(
        "--socket-user-timeout-s",
        "int",
        group="socket options",
        help="Set TCP_USER_TIMEOUT for the socket",
    ),
    _value(
        "--socket-priority",
        "int",
        group="socket options",
        help="Set SO_PRIORITY for the socket",
    ),
    _value(
        "--socket-recv-buffer-size",
        "int",
        group="socket options",
        help="Set SO_RCVBUF for the socket",
    ),
    _value(
        "--socket-send-buffer-size",
        "int",
        group="socket options",
        help="Set SO_SNDBUF for the socket",
    ),
    _value(
        "--socket-mss",
        "int",
        group="socket options",
        help="Set TCP_MAXSEG for the socket",
    ),
    _value(
        "--socket-mark",
        "int",
        group="socket options",
        help="Set SO_MARK for the socket",
    ),
    _value(
        "--socket-thin-linear-timeouts",
        "bool",
        group="socket options",
        help="Set TCP_THIN_LINEAR_TIMEOUTS for the socket",
    ),
    _value(
        "--socket-notsent-lowat",
        "int",
        group="socket options",
        help="Set TCP_NOTSENT_LOWAT for the socket",
    ),
    _value(
        "--socket-keepalive",
        "bool",
        group="socket options",
        help="Set SO_KEEPALIVE for the socket",
    ),
    _value(
        "--socket-keepalive-retries",
        "int",
        group="socket options",
        help="Set TCP_KEEPCNT for the socket",
    ),
    _value(
        "--socket-keepalive-interval-s",
        "int",
        group="socket options",
        help="Set TCP_KEEPINTVL for the socket",
    ),
    _value(
        "--socket-keepalive-idletime-s",
        "int",
        group="socket options",
        help="Set TCP_KEEPALIVE for the socket",
    ),
    _flag(
        "--socket-broadcast",
        group="socket options",
        help="Set SO_BROADCAST for the UDP socket",
    ),
    _value(
        "--socket-multicast",
        "str",
        group="socket options",
        help="Use IP_ADD_MEMBERSHIP or IPV6_ADD_MEMBERSHIP for the UDP socket",
    ),
    _value(
        "--socket-multicast-interface-addr",
        "str",
        group="socket options",
        help="Use this interface address instead of 0.0.0.0 when joining multicast",
    ),
    _value(
        "--socket-multicast-interface-index",
        "int",
        group="socket options",
        help="Use this interface index instead of 0 when joining multicast",
    ),
    _value(
        "--socket-multicast-specific-source",
        "str",
        group="socket options",
        help="Use IP_ADD_SOURCE_MEMBERSHIP instead of IP_ADD_MEMBERSHIP",
    ),
    _value(
        "--socket-multicast-all",
        "bool",
        group="socket options",
        help="Set IP_MULTICAST_ALL or IPV6_MULTICAST_ALL for the UDP socket",
    ),
    _value(
        "--socket-multicast-loop",
        "bool",
        group="socket options",
        help="Set IP_MULTICAST_LOOP or IPV6_MULTICAST_LOOP for the UDP socket",
    ),
    _value(
        "--socket-multicast-ttl",
        "int",
        group="socket options",
        help="Set IP_MULTICAST_TTL or IPV6_MULTICAST_HOPS for the UDP socket",
    ),
    _flag(
        "--exclude-ws-from-sockopts",
        group="socket options",
        help="Do not apply `socket_*`, `reuseaddr`, `reuseport` and "
        "`bind_before_connect` to specifier stacks that include WebSocket framer\n\n"
        "You can attain the reverse effect by playing with --compose mode, "
        "registry-send: and registry-stream-listen: , as socket options (like most "
        "other options) only affect single sub-session of the compose mode.",
    ),
    _value(
        "--tcp-race-interval-ms",
        "int",
        default=20,
        group="socket options",
        help="Delay between initiating subsequent connections when connecting to a "
        "TCP using multiple address variants",
    ),
    _flag(
        "--help",
        short="-h",
        group="help",
        help="Print help (see a summary with '-h')",
    ),
    _flag(
        "--version",
        short="-V",
        group="help",
        help="Print version",
    ),
)

# Options of ours that websocat4 does not have, after the manual's.
EXTENSIONS: tuple[OptionSpec, ...] = (
    _flag(
        "--verbose",
        short="-v",
        group="websocket",
        help="Print WebSocket handshake requests and replies and control frames on stderr "
        "(not in websocat4; asked for in vi/websocat#48)",
    ),
    _flag(
        "--standalone",
        group="planner/debug",
        help="With --dump-spec: print one file that runs with Python alone, the runtime pieces the "
        "scenario uses inlined (not in websocat4)",
    ),
    _value(
        "--broadcast-queue-len",
        "int",
        group="overlays",
        help="For `broadcast:`, how many messages a client may fall behind before it is dropped "
        "(with a line on stderr) [default: 16] (not in websocat4; websocat v1's broadcast:)",
    ),
    _value(
        "--queue-len",
        "int",
        group="overlays",
        help="websocat v1's spelling of --broadcast-queue-len (not in websocat4)",
    ),
    _value(
        "--proxy",
        "str",
        group="websocket",
        help="Connect ws:// and wss:// URLs through this HTTP proxy, http://[user:password@]host:port "
        "(a CONNECT tunnel; user:password sent as Basic Proxy-Authorization; the proxy resolves the "
        "target's name) (not in websocat4)",
    ),
    _flag(
        "--proxy-from-env",
        group="websocket",
        help="Connect ws:// and wss:// URLs through the proxy the environment names: wss:// "
        "HTTPS_PROXY, ws:// http_proxy (lower case only), then ALL_PROXY; NO_PROXY honoured; "
        "http://, socks5:// or socks5h:// (not in websocat4; without it they are ignored)",
    ),
    _value(
        "--socks5",
        "str",
        group="websocket",
        help="Connect ws:// and wss:// URLs through this SOCKS5 proxy, host:port; the target's name is "
        "sent to the proxy to resolve (not in websocat4; websocat v1's name)",
    ),
    _value(
        "--socks5-user-pass",
        "str",
        group="websocket",
        help="user:password for the --socks5 proxy (RFC 1929); without it no authentication is "
        "offered (not in websocat4; websocat v1's name)",
    ),
    _value(
        "--close-delay-ms",
        "int",
        group="websocket",
        help="After our side's EOF, keep reading for this many milliseconds before sending the "
        "Close frame, for peers slow to answer (not in websocat4; like wscat's -w)",
    ),
    _value(
        "--tls-cert",
        "str",
        group="tls",
        help="PEM file of the certificate (a chain allowed) that tls-accept:, wss-l: and -s serve, "
        "for TLS servers (not in websocat4; websocat v1 takes a PKCS#12 file, --pkcs12-der)",
    ),
    _value(
        "--tls-key",
        "str",
        group="tls",
        help="PEM file of the private key of --tls-cert (default: read from the --tls-cert file) " "(not in websocat4)",
    ),
    _value(
        "--tls-key-password-env",
        "str",
        group="tls",
        help="Name of the environment variable that holds the passphrase of an encrypted "
        "--tls-key or --tls-client-key (not in websocat4; never give it on the command line)",
    ),
    _value(
        "--tls-key-password-file",
        "str",
        group="tls",
        help="File whose content (one trailing newline stripped) is the passphrase of an encrypted "
        "--tls-key or --tls-client-key (not in websocat4)",
    ),
    _value(
        "--tls-client-ca",
        "str",
        group="tls",
        help="PEM file of the CA(s) that TLS servers (tls-accept:, wss-l:, -s) require and verify "
        "client certificates with (not in websocat4)",
    ),
    _value(
        "--tls-client-cert",
        "str",
        group="tls",
        help="PEM file of the client certificate that tls: and wss:// present (not in websocat4; "
        "websocat v1 takes a PKCS#12 file, --client-pkcs12-der)",
    ),
    _value(
        "--tls-client-key",
        "str",
        group="tls",
        help="PEM file of the private key of --tls-client-cert (default: read from the "
        "--tls-client-cert file) (not in websocat4)",
    ),
    _value(
        "--tls-ca",
        "str",
        group="tls",
        help="PEM file of the CA(s) that tls: and wss:// trust instead of the system store "
        "(SSL_CERT_FILE also works) (not in websocat4)",
    ),
    _value(
        "--ping-interval",
        "float",
        group="websocket",
        help="Send a WebSocket ping every this many seconds (not in websocat4; websocat v1's name; a fraction is allowed)",
    ),
    _value(
        "--ping-timeout",
        "float",
        group="websocket",
        help="Drop the WebSocket connection if no pong came for this many seconds, with exit code 5 "
        "(not in websocat4; websocat v1's name; counts from the last pong, so make it longer than --ping-interval)",
    ),
    _flag(
        "--print-ping-rtts",
        group="websocket",
        help="Print the round-trip time of each pong to our pings on stderr, 'RTT 0.000123 s' (not in websocat4; websocat v1's name)",
    ),
    _value(
        "--max-sent-pings",
        "int",
        group="websocket",
        help="Stop sending pings after this many (not in websocat4; websocat v1's name)",
    ),
    _append(
        "--preamble",
        short="-p",
        group="transfer",
        help="Send this message before any data, to the right side (to the URL in the one-argument "
        "client form, as websocat v1); repeat for more (not in websocat4; websocat v1's name; text, or binary with -b)",
    ),
    _append(
        "--preamble-reverse",
        short="-P",
        group="transfer",
        help="Send this message before any data the other way: to the left side (to stdout in the "
        "one-argument client form) (not in websocat4; websocat v1's name)",
    ),
    _flag(
        "--one-message",
        short="-1",
        group="transfer",
        help="Copy one message each way, then end the session: send one, print one reply "
        "(not in websocat4; websocat v1's name; not --oneshot)",
    ),
    _value(
        "--max-messages",
        "int",
        group="transfer",
        help="End the left-to-right direction (stdin to the URL in the one-argument client form) after this "
        "many messages (reads, for bytes) (not in websocat4; websocat v1's name)",
    ),
    _value(
        "--max-messages-rev",
        "int",
        group="transfer",
        help="End the other direction (the URL to stdout in the one-argument client form) after this many "
        "messages (not in websocat4; websocat v1's name)",
    ),
    _value(
        "--workers",
        "int",
        group="mode",
        help="Serve with this many processes sharing the TCP listener's port (SO_REUSEPORT; --reuseport is "
        "turned on); broadcast:, reuse-raw: and registries stay per process (not in websocat4)",
    ),
    _value(
        "--autoreconnect-delay-millis",
        "int",
        group="overlays",
        help="For `autoreconnect:`, the delay before opening the connection again, in milliseconds; it doubles "
        "(with jitter) while attempts fail [default: 20] (not in websocat4; websocat v1's name)",
    ),
    _value(
        "--autoreconnect-max-delay-millis",
        "int",
        group="overlays",
        help="For `autoreconnect:`, the longest delay between attempts, in milliseconds [default: 5000] "
        "(not in websocat4; websocat v1's autoreconnect: has a fixed delay)",
    ),
    _value(
        "--autoreconnect-max-attempts",
        "int",
        group="overlays",
        help="For `autoreconnect:`, give up (one line, exit code 3) after this many failed attempts in a row; "
        "a connection that carried no message counts as failed [default: no limit] (not in websocat4; "
        "an addition to websocat v1's autoreconnect:)",
    ),
    _flag(
        "--foreachmsg-wait-read",
        group="overlays",
        help="For `foreachmsg:`, read each connection's replies until it ends before closing it, and pass "
        "them on (not in websocat4; websocat v1's name)",
    ),
    _flag(
        "--set-environment",
        short="-e",
        group="process",
        help="Give exec:/cmd:/sh-c: children the session's request in their environment: WEBSOCAT_URI "
        "(the WebSocket request target, path and query) and WEBSOCAT_CLIENT (the TCP client's host:port) "
        "(not in websocat4; websocat v1's name). Beware of ShellShock-like problems: the values are the client's",
    ),
    _append(
        "--header-to-env",
        group="process",
        help="With -e: put this WebSocket request header in the children's environment as H_<name> "
        "(the name as given, e.g. H_User-Agent, and H_User_Agent for sh, which drops the former; the first "
        "value; unset when the request has none); "
        "repeat for more (not in websocat4; websocat v1's name)",
    ),
    _flag(
        "--exec-exit-on-disconnect",
        group="process",
        help="Stop exec:/cmd: children when their client goes away (its EOF: a WebSocket Close, a TCP FIN): "
        "SIGTERM at once, SIGKILL a second later, instead of leaving them to read EOF on stdin "
        "(not in websocat4; websocat v1's name; v1 sends SIGKILL at once)",
    ),
    _flag(
        "--exec-stderr-inherit",
        group="process",
        help="Give exec:/cmd: children of a listener's sessions our stderr itself; by default each line they "
        "write to stderr is prefixed with the session's number, '[3] ' (not in websocat4)",
    ),
    _flag(
        "--base64",
        group="text mode",
        help="Show each binary WebSocket message received as one line of base64 (text ones as they are); "
        "lines sent as binary (with --binary-prefix, or -b) are decoded from base64 "
        "(not in websocat4; websocat v1's)",
    ),
    _flag(
        "--base64-text",
        group="text mode",
        help="As --base64 for text WebSocket messages: shown as base64, and lines sent as text decoded from it "
        "(not in websocat4; websocat v1's)",
    ),
    _value(
        "--text-prefix",
        "str",
        group="text mode",
        help="Put this in front of each text WebSocket message received; a line sent that starts with it "
        "goes out as a text message, the prefix stripped (not in websocat4; websocat v1's)",
    ),
    _value(
        "--binary-prefix",
        "str",
        group="text mode",
        help="Put this in front of each binary WebSocket message received; a line sent that starts with it "
        "goes out as a binary message, the prefix stripped (not in websocat4; websocat v1's)",
    ),
    _flag(
        "--compress",
        group="websocket",
        help="Compress WebSocket messages with permessage-deflate (RFC 7692): a client offers it, a "
        "server accepts a client's offer; a peer that declines gets uncompressed messages (not in websocat4; "
        "websocat v1's --compress-deflate compresses the data, not the frames)",
    ),
    _flag(
        "--compress-no-context-takeover",
        group="websocket",
        help="With --compress: compress each message on its own, both ways (server_no_context_takeover and "
        "client_no_context_takeover: less memory per connection, a worse ratio) (not in websocat4)",
    ),
    _value(
        "--compress-window-bits",
        "int",
        group="websocket",
        help="With --compress: the deflate window of both directions, 9 to 15 (server_max_window_bits and "
        "client_max_window_bits; default 15, 32 KiB) (not in websocat4)",
    ),
    _value(
        "--compress-level",
        "int",
        group="websocket",
        help="With --compress: zlib's level for the messages we send, 0 (no compression, fastest) to 9 "
        "(smallest, slowest); default 6, as websockets and browsers (not in websocat4)",
    ),
    _value(
        "--follow-redirects",
        "int",
        group="websocket",
        help="A ws:// or wss:// URL answered with a redirect (301, 302, 303, 307, 308) is connected again at "
        "its Location, at most this many times, with the same headers; a redirect from wss to ws needs -k, and "
        "one to another host is refused when the request carries credentials (not in websocat4)",
    ),
    _value(
        "--max-ws-message-length",
        "int",
        group="websocket",
        help="Fail the WebSocket connection (close code 1009) on an incoming message longer than this many bytes, "
        "at least 1024; compressed messages count inflated (default: no limit, 64 MiB for compressed ones) "
        "(not in websocat4; websocat v1's name)",
    ),
    _value(
        "--connect-timeout-ms",
        "int",
        group="transfer",
        help="Give up connecting after this many milliseconds, at each stage: TCP connect (or the tunnel "
        "of --proxy/--socks5), TLS handshake, WebSocket upgrade; the error names the stage, exit code 5 "
        "(not in websocat4)",
    ),
    _value(
        "--idle-timeout-ms",
        "int",
        group="transfer",
        help="End a session when no data went either way for this many milliseconds: one line on stderr, "
        "a WebSocket closed with 1001 'idle timeout', exit code 5 (not in websocat4)",
    ),
    _value(
        "--close-status-code",
        "int",
        group="websocket",
        help="Close our WebSockets with this status code (1000, 1001-1003, 1007-1014, 3000-4999) at EOF or "
        "at a normal end, instead of an empty Close (not in websocat4; websocat v1's name)",
    ),
    _value(
        "--close-reason",
        "str",
        group="websocket",
        help="The reason text of our Close, up to 123 bytes of UTF-8; the code is 1000 without "
        "--close-status-code (not in websocat4; websocat v1's name)",
    ),
    _flag(
        "--stats",
        group="log",
        help="Print one line on stderr at the end of each session: messages and bytes each way, duration, "
        "time to connect, TLS and upgrade, close codes both ways, the error if any (not in websocat4)",
    ),
    _flag(
        "--stats-json",
        group="log",
        help="Like --stats, as one JSON object per line (not in websocat4)",
    ),
    _value(
        "--restrict-uri",
        "str",
        group="websocket",
        help="WebSocket servers upgrade only requests of this path, like /ws (the query is not compared); "
        "other paths get 404 (not in websocat4; websocat v1's name)",
    ),
    _append(
        "--allow-origin",
        group="websocket",
        help="WebSocket servers refuse with 403 an upgrade whose Origin header is not this one, e.g. "
        "https://example.com (repeat for more; against cross-site WebSocket hijacking). A request "
        "without Origin (not from a browser) is let in (not in websocat4)",
    ),
    _value(
        "--server-basic-auth-file",
        "str",
        group="websocket",
        help="WebSocket servers require HTTP Basic auth from this file of user:password lines (or "
        "user:pbkdf2_sha256$ITERATIONS$SALT$HASH), read once at start; missing or wrong credentials get "
        "401 (not in websocat4)",
    ),
    _value(
        "--basic-auth",
        "str",
        group="websocket",
        help="Send user:password as HTTP Basic auth in WebSocket requests, as ws://user:password@host/ "
        "does (not in websocat4; websocat v1's name)",
    ),
    _value(
        "--basic-auth-file",
        "str",
        group="websocket",
        help="Send the user:password this file holds (read at each connect) as HTTP Basic auth in "
        "WebSocket requests (not in websocat4; websocat v1's name)",
    ),
    _value(
        "--conncap",
        "int",
        group="mode",
        help="Listeners serve at most this many sessions at once; beyond that a WebSocket client gets "
        "503 and other connections are closed at once (not in websocat4; websocat v1's name)",
    ),
    _append(
        "--static-file",
        short="-F",
        group="websocket",
        help="URI:CONTENT_TYPE:FILE, e.g. /index.html:text/html:index.html: WebSocket servers answer "
        "a plain GET of URI with FILE (read at each request); other plain requests get 404; repeat for "
        "more (not in websocat4; websocat v1's name and syntax)",
    ),
)
OPTIONS = OPTIONS + EXTENSIONS

GROUPS: tuple[str, ...] = (
    "mode",
    "transfer",
    "process",
    "text mode",
    "websocket",
    "tls",
    "log",
    "exec",
    "udp",
    "unix",
    "socket options",
    "lengthprefixed",
    "tee",
    "overlays",
    "endpoints",
    "planner/debug",
    "help",
)
"""Every ``OptionSpec.group``, in ``--help`` order; options keep the manual's order."""

_BY_NAME: dict[str, OptionSpec] = {name: spec for spec in OPTIONS for name in spec.option_strings}


_BY_DEST: dict[str, OptionSpec] = {spec.dest: spec for spec in OPTIONS}


def option_by_dest(dest: str) -> OptionSpec | None:
    """The option whose parsed value is ``opts.<dest>``."""
    return _BY_DEST.get(dest)


def find_option(name: str) -> OptionSpec | None:
    """The option spelled ``name`` (``"--buffer-size"`` or ``"-B"``), if any."""
    return _BY_NAME.get(name)


def _converter(spec: OptionSpec) -> Callable[[str], object]:
    """A value converter whose errors already carry the final one-line message."""

    def fail(problem: str) -> NoReturn:
        # An ArgumentError without an action: argparse passes the message on unchanged.
        raise argparse.ArgumentError(None, f"option '{spec.long}': {problem}")

    def to_int(text: str) -> int:
        # ASCII digits only (int() would also take "1_000" and other scripts' digits).
        digits = text[1:] if text.startswith(("+", "-")) else text
        if not (digits.isascii() and digits.isdigit()):
            fail(f"{text!r} is not an integer")
        if text.startswith("-"):
            fail(f"{text!r} is negative")
        return int(digits)

    def to_bool(text: str) -> bool:
        if text not in ("true", "false"):
            fail(f"{text!r} is not 'true' or 'false'")
        return text == "true"

    def to_float(text: str) -> float:
        try:
            return float(text)
        except ValueError:
            fail(f"{text!r} is not a number")

    converters = {"int": to_int, "bool": to_bool, "float": to_float}
    return converters.get(spec.type or "str", str)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Clap-like help: ``-B, --buffer-size <BUFFER_SIZE>``, paragraphs, raw epilog."""

    def __init__(self, prog: str) -> None:
        super().__init__(prog, max_help_position=40)

    def _format_action_invocation(self, action: argparse.Action) -> str:
        if not action.option_strings:
            return super()._format_action_invocation(action)
        names = ", ".join(action.option_strings)
        if action.option_strings[0].startswith("--"):
            names = "    " + names  # no short option: align the long ones, as clap does
        if action.nargs == 0:
            return names
        if action.nargs == argparse.REMAINDER:
            return f"{names} [<{action.metavar}>...]"
        return f"{names} <{action.metavar}>"

    def _split_lines(self, text: str, width: int) -> list[str]:
        import textwrap  # only the help path needs it, as in argparse itself

        lines: list[str] = []
        for index, paragraph in enumerate(text.split("\n\n")):
            if index:
                lines.append("")
            lines.extend(textwrap.wrap(" ".join(paragraph.split()), width, break_on_hyphens=False))
        return lines

    def _format_action(self, action: argparse.Action) -> str:
        # Otherwise the blank line between paragraphs keeps the help column's indent.
        return "\n".join(line.rstrip() for line in super()._format_action(action).split("\n"))


class _Parser(argparse.ArgumentParser):
    """An ArgumentParser that raises a one-line OptionError instead of exiting."""

    def error(self, message: str) -> NoReturn:
        raise OptionError(_one_line(message))


def _one_line(message: str) -> str:
    """Rewrite argparse's messages about an option in websocat's words."""
    if message.startswith("argument ") and ": " in message:
        names, detail = message.removeprefix("argument ").split(": ", 1)
        spec = next(filter(None, map(find_option, names.split("/"))), None)
        if spec is not None:
            if detail == "expected one argument":
                return f"option '{spec.long}' expects a value ({spec.metavar})"
            if detail.startswith("ignored explicit argument "):
                value = detail.removeprefix("ignored explicit argument ")
                return f"option '{spec.long}' takes no value, got {value}"
            return f"option '{spec.long}': {detail}"
    message = " ".join(message.split())
    return message[:1].lower() + message[1:]


def _help_text(spec: OptionSpec) -> str:
    text = spec.help
    if spec.shows_default:
        text += f"\n\n[default: {spec.default}]"
    if spec.type == "bool":
        text += "\n\n[possible values: true, false]"
    return text.replace("%", "%%")


def build_parser(*, prog: str = "websocat", epilog: str = "", version: str = "") -> argparse.ArgumentParser:
    """One parser for the whole option table; its errors raise OptionError."""
    parser = _Parser(
        prog=prog,
        usage=f"{prog} [OPTIONS] <SPEC1> [SPEC2]",
        description=DESCRIPTION,
        epilog=epilog or None,
        formatter_class=_HelpFormatter,
        add_help=False,
        allow_abbrev=False,
    )
    arguments = parser.add_argument_group("arguments")
    arguments.add_argument("spec1", nargs="?", metavar="SPEC1", help=SPEC1_HELP)
    arguments.add_argument("spec2", nargs="?", metavar="SPEC2", help=SPEC2_HELP)
    groups = {name: parser.add_argument_group(name) for name in GROUPS}
    for spec in OPTIONS:
        group = groups[spec.group]
        help_text = _help_text(spec)
        if spec.dest == "help":
            group.add_argument(*spec.option_strings, action="help", help=help_text)
        elif spec.dest == "version":
            group.add_argument(
                *spec.option_strings,
                action="version",
                version=version or prog,
                help=help_text,
            )
        elif spec.kind == "flag":
            group.add_argument(
                *spec.option_strings,
                dest=spec.dest,
                action="store_true",
                help=help_text,
            )
        elif spec.kind == "rest":
            group.add_argument(
                *spec.option_strings,
                dest=spec.dest,
                nargs=argparse.REMAINDER,
                default=[],
                metavar=spec.metavar,
                help=help_text,
            )
        else:
            group.add_argument(
                *spec.option_strings,
                dest=spec.dest,
                action="append" if spec.kind == "append" else "store",
                type=_converter(spec),
                default=[] if spec.kind == "append" else spec.default,
                metavar=spec.metavar,
                help=help_text,
            )
    return parser


def _unexpected(extra: str) -> OptionError:
    if extra.startswith("-") and extra != "-":
        from websocat.planner.suggest import closest
        from websocat.planner.websocat1 import websocat1_message

        name = extra.split("=", 1)[0]
        known_in_v1 = websocat1_message(name)
        if known_in_v1:
            return OptionError(known_in_v1)
        close = closest(name, [spec.long for spec in OPTIONS]) if name.startswith("--") else None
        hint = f"; did you mean '{close}'?" if close else ""
        return OptionError(f"unknown option {name!r}{hint}")
    if extra in COMPOSE_WORDS:
        return OptionError(
            f"unexpected extra argument {extra!r}: '&', ';', '^', '(' and ')' separate the parts"
            " of a --compose command line; give --compose first"
        )
    return OptionError(f"unexpected extra argument {extra!r}; only SPEC1 and SPEC2 are accepted")


COMPOSE_WORDS = ("&", ";", "^", "(", ")")  # --compose's operators and parentheses


def _split_tail(argv: list[str]) -> tuple[list[str], list[str], list[str] | None]:
    """Split off what argparse must not see: the tail after ``--exec-args`` or ``--``.

    Whichever comes first wins: ``--exec-args -l -- x`` passes ``--`` on to the command.
    """
    for index, arg in enumerate(argv):
        if arg == "--":
            return argv[:index], argv[index + 1 :], None
        if arg == "--exec-args":
            return argv[:index], [], argv[index + 1 :]
        if arg.startswith("--exec-args="):
            return argv[:index], [], [arg.partition("=")[2], *argv[index + 1 :]]
    return argv, [], None


# Options that only choose what to print instead of running: a dumped script's first
# line, the command it runs, leaves them out.
DUMP_FLAGS = ("--dump-spec", "--dump-spec-phase0", "--dump-spec-phase1", "--dump-spec-phase2", "--standalone")


def without_dump_flags(argv: Sequence[str]) -> list[str]:
    """``argv`` as the command that runs what it dumps: the dump flags removed.

    Only words before ``--`` or ``--exec-args`` can be options, and a dump flag never
    takes a value, so removing these exact words changes nothing else.
    """
    head, _positionals, exec_args = _split_tail(list(argv))
    kept = [arg for arg in head if arg not in DUMP_FLAGS]
    return kept + list(argv[len(head) :])


def parse_args(argv: Sequence[str], *, parser: argparse.ArgumentParser | None = None) -> argparse.Namespace:
    """Parse ``argv`` (without the program name); raise OptionError on any problem.

    Options and the two positionals may be interleaved (``websocat ws://x -t mirror:``);
    everything after ``--`` is positional, and ``--exec-args`` takes everything after it
    verbatim.  ``-h`` and ``-V`` print and exit as usual.
    """
    parser = parser or build_parser()
    head, positionals, exec_args = _split_tail(list(argv))
    namespace, extras = parser.parse_known_intermixed_args(head)
    options = [extra for extra in extras if extra.startswith("-") and extra != "-"]
    if options:
        raise _unexpected(options[0])
    for value in positionals:
        if namespace.spec1 is None:
            namespace.spec1 = value
        elif namespace.spec2 is None:
            namespace.spec2 = value
        else:
            extras.append(value)
    if extras:
        raise _unexpected(extras[0])
    if exec_args is not None:
        namespace.exec_args = exec_args
    return namespace
