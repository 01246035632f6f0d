"""How much of a measured latency is the client's own work: the cost of receiving one event."""

from __future__ import annotations

import time

from bench import sse

_FRAGMENT = (
    '<li id="m-123456" class="message" data-author="b0u00001" data-seq="42" data-mentions="">\n'
    '<span class="said visually-hidden">B0U00001 @b0u00001, 2026-11-20 10:00 UTC: BENCH:1:{seq}:123456789:END '
    "the quick brown fox jumps over the lazy dog, and then sits down to wait for the reply</span>\n"
    '<p class="meta" aria-hidden="true"><span class="author">B0U00001</span> <span class="username">@b0u00001'
    '</span> <time datetime="2026-11-20T10:00:00Z">2026-11-20 10:00 UTC</time></p>\n'
    '<div class="body" dir="auto" aria-hidden="true">BENCH:1:{seq}:123456789:END the quick brown fox jumps '
    "over the lazy dog, and then sits down to wait for the reply</div>\n"
    '<div class="msg-actions"><a class="act-own" href="/rooms/3/messages/123456/edit" '
    'hx-get="/rooms/3/messages/123456/edit" hx-target="closest li" hx-swap="outerHTML">Edit or delete</a>'
    '<a class="act-moderate" href="/rooms/3/messages/123456/edit" hx-get="/rooms/3/messages/123456/edit" '
    'hx-target="closest li" hx-swap="outerHTML">Delete</a></div>\n</li>'
)


class _Transport:
    def write(self, data):
        pass

    def close(self):
        pass


def parse_cost_us(events: int = 20_000) -> float:
    owner = _CountingOwner()
    stream = sse.Stream(owner, b"")
    stream.connection_made(_Transport())
    stream.data_received(b"HTTP/1.1 200 \r\ncontent-type: text/event-stream\r\ntransfer-encoding: chunked\r\n\r\n")
    chunks = []
    for seq in range(events):
        lines = [f"event: message", f"id: {seq + 1}"] + ["data: " + l for l in _FRAGMENT.format(seq=seq).split("\n")]
        frame = ("\n".join(lines) + "\n\n").encode()
        chunks.append(b"%x\r\n%s\r\n" % (len(frame), frame))
    started = time.perf_counter()
    for chunk in chunks:
        stream.data_received(chunk)
    elapsed = time.perf_counter() - started
    assert owner.count == events, owner.count
    return round(elapsed / events * 1e6, 2)


class _CountingOwner(sse.Owner):
    def __init__(self):
        self.count = 0

    def on_message(self, stream, event_id, data, received):
        from bench.scenarios import parse_token

        parse_token(data)
        self.count += 1
