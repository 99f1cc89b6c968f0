"""websocat v1's options that this websocat does not have, and what to use instead.

Taken from v1's `--help=long` (doc.md of github.com/vi/websocat, master, 1.14.0), minus
the options that websocat4's manual kept under the same name (those are in options.py).
An option that a later version implements leaves this table when it enters OPTIONS; a
test checks that no name is in both.
"""

from __future__ import annotations

# (v1 spellings, advice: what to use here instead; None when nothing does the same job yet)
WEBSOCAT1_OPTIONS: tuple[tuple[tuple[str, ...], str | None], ...] = (
    (("-q",), "not needed: without -v only errors and warnings are printed (--no-lints silences the warnings)"),
    (("-S", "--strict"), None),
    (("-X", "--request-method"), None),
    (("--async-stdio", "--no-async-stdio"), "not needed: stdin and stdout are always non-blocking here"),
    (("--byte-to-exit-on",), None),
    (("--client-pkcs12-der", "--client-pkcs12-passwd"), "use PEM files: --tls-client-cert and --tls-client-key"),
    (("--pkcs12-der", "--pkcs12-passwd"), "use PEM files: --tls-cert and --tls-key"),
    (("--compress-deflate", "--compress-gzip", "--compress-zlib"), None),
    (("--uncompress-deflate", "--uncompress-gzip", "--uncompress-zlib"), None),
    (("--crypto-key", "--crypto-reverse"), None),
    (("--exec-sighup-on-stdin-close", "--exec-sighup-on-zero-msg"), None),
    (("--jsonrpc", "--jsonrpc-omit-jsonrpc"), None),
    (("--just-generate-key", "--just-generate-accept"), None),
    (("--linemode-strip-newlines",), "not needed: lines: (and -t) already strip the separator from each message"),
    (("--max-ws-frame-length",), None),
    (("--no-exit-on-zeromsg", "--websocket-ignore-zeromsg"), None),
    (("--no-line",), "use -b (chunks: instead of lines:)"),
    (("--prometheus",), None),
    (("--request-header", "--request-uri"), None),
    (("--reuser-send-zero-msg-on-disconnect",), None),
    (("--server-mode",), "use -s (--server)"),
    (("--socks5-bind-script", "--socks5-destination"), None),
    (("--timestamp-monotonic",), None),
    (("--udp-broadcast",), "use --socket-broadcast"),
    (("--udp-multicast",), "use --socket-multicast"),
    (("--udp-multicast-iface-v4",), "use --socket-multicast-interface-addr"),
    (("--udp-multicast-iface-v6",), "use --socket-multicast-interface-index"),
    (("--udp-multicast-loop",), "use --socket-multicast-loop true"),
    (("--udp-oneshot",), None),
    (("--udp-reuseaddr",), "use --reuseaddr true"),
    (("--udp-ttl",), "use --socket-ttl (and --socket-multicast-ttl)"),
    (("--websocket-version",), None),
)

_BY_NAME = {name: instead for names, instead in WEBSOCAT1_OPTIONS for name in names}


def websocat1_message(name: str) -> str | None:
    """For an option name this parser does not know: what to say if websocat v1 had it."""
    if name not in _BY_NAME:
        return None
    instead = _BY_NAME[name]
    if instead is None:
        return f"unknown option {name!r}: it is websocat v1's, and has no counterpart here yet"
    return f"unknown option {name!r}: it is websocat v1's; {instead}"
