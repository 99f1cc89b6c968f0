"""Per 1000-message batch of 40-byte text messages, in one process (same machine load):
the framer's build+parse (what the data path does anyway) vs --stats's counting."""

import timeit
from operator import itemgetter
from websocat.runtime.overlays.ws_framing import FrameBuilder, FrameParser
from websocat.runtime.stats import Watched, _data, _flags
from websocat.runtime.sockets import CONTINUES, TEXT

batch = [(b"x" * 40, TEXT)] * 1000
wire = bytes(FrameBuilder(mask=True).build(batch))


def frame():
    FrameBuilder(mask=True).build(batch)
    out, ctl = [], []
    FrameParser(expect_masked=True).parse(wire, out, ctl)


counts = [0, 0, 0, 0]


def count():
    flags = list(map(_flags, batch))
    counts[0] += len(batch) - flags.count(CONTINUES) - flags.count(CONTINUES | TEXT)
    counts[1] += sum(map(len, map(_data, batch)))


for _ in range(3):
    f = min(timeit.repeat(frame, number=200, repeat=5)) / 200
    c = min(timeit.repeat(count, number=200, repeat=5)) / 200
    print(f"build+parse {f*1e6:.0f} us, count {c*1e6:.0f} us per 1000 messages: counting adds {c/f*100:.0f}%")
