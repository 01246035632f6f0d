"""The event streams: GET /rooms/ID/events (one per room tab) and GET /events (the room list).

A stream subscribes before it reads the database, replays what the client missed, then goes live,
dropping anything it already sent (by event id) and filling any gap from the database: no loss, no
repeat, whatever order the broker delivers in.
"""

from __future__ import annotations

import asyncio
import logging

from quart import Blueprint, Response, g, request

from webchat.errors import Refused
from webchat.live import publish, sse
from webchat.live.hub import Envelope, Subscriber
from webchat.messages.service import events_after, newest_event
from webchat.models import Membership
from webchat.rooms.service import access, parse_id

log = logging.getLogger("webchat.streams")
bp = Blueprint("live", __name__)

HEARTBEAT_SECONDS = 15.0
REPLAY_LIMIT = 1000
STREAMS_PER_USER = 24
# A subscription is made before the response is sent; if the client leaves in between, the body
# generator that would release it never runs. This long after, such a subscription is released.
STREAM_START_SECONDS = 30.0


def resume_point() -> int | None:
    """The larger of Last-Event-ID and ?last_event_id, or None; 400 for anything but a count."""
    values = []
    for raw in (request.headers.get("Last-Event-ID"), request.args.get("last_event_id")):
        if raw is None or raw == "":
            continue
        if not (raw.isascii() and raw.isdigit()) or len(raw) > 12:
            raise Refused(400, "last_event_id must be a whole number of 0 or more.", "Bad resume point")
        values.append(int(raw))
    return max(values) if values else None


def stream_response(body) -> Response:
    response = Response(body, 200, dict(sse.HEADERS))
    response.timeout = None  # never let Quart cancel a stream after RESPONSE_TIMEOUT
    return response


def _over_cap(rt, user_id: int) -> bool:
    """The per-user stream cap. Checked with no await between it and hub.add(), so that streams
    opened at the same moment cannot all pass the check before any of them is counted."""
    return rt.settings.rate_limits and rt.hub.count_for(user_id) >= STREAMS_PER_USER


async def _too_many_streams():
    from webchat import web

    return await web.rate_limited(30, "open rooms at once (close some tabs)")


async def _topics_for(user_id: int, room_id: int | None) -> tuple[str, ...]:
    room_ids = await Membership.filter(user_id=user_id).values_list("room_id", flat=True)
    topics = [f"user:{user_id}"] + [f"unread:{rid}" for rid in room_ids]
    if room_id is not None:
        topics.insert(0, f"room:{room_id}")
    return tuple(dict.fromkeys(topics))


@bp.get("/rooms/<room_id>/events")
async def room_events(room_id: str):
    rid = parse_id(room_id)
    user = g.user
    found = await access(rid, user)
    after = resume_point()
    rt = g.runtime
    topics = await _topics_for(user.id, rid)
    if _over_cap(rt, user.id):
        return await _too_many_streams()
    sub = Subscriber(user.id, rid, topics)
    # Before reading the database: nothing can slip between replay and live.
    started = _subscribe(rt, sub)
    try:
        latest = await newest_event(rid)
    except BaseException:
        started.cancel()
        rt.hub.remove(sub)
        raise
    private = found.room.kind != "public"
    return stream_response(
        _room_stream(rt, sub, started, user.id, user.display_name, rid, private, after, latest)
    )


def _subscribe(rt, sub: Subscriber) -> asyncio.TimerHandle:
    """Add the subscriber; the returned timer releases it unless the stream starts (cancels it)."""
    rt.hub.add(sub)
    return asyncio.get_running_loop().call_later(STREAM_START_SECONDS, _abandoned, rt.hub, sub)


def _abandoned(hub, sub: Subscriber) -> None:
    """The response never started (its client left between our answer and its first byte)."""
    sub.close("abandoned")
    hub.remove(sub)


async def _room_stream(rt, sub, started, user_id, name, rid, private, after, latest):
    renderer = rt.renderer
    entered = False
    try:
        started.cancel()
        if sub.closed == "abandoned":
            return  # too late: the client reconnects and resumes from its last id
        yield sse.OPENING
        entered = True  # the state counts this stream before enter() first suspends
        if await rt.state.enter(rid, user_id, name):
            await publish.presence(rid, rt)
        # Presence and typing repeat themselves (a publish, and the current state): send changes only.
        shown = {"presence": await _current(rt, sub, "presence"), "typing": await _current(rt, sub, "typing")}
        yield shown["presence"] + shown["typing"]
        if after is not None and (after > latest or latest - after > REPLAY_LIMIT):
            yield sse.frame("reload", "")
            return
        last = latest if after is None else after
        if last < latest:
            replay, last = await _events(renderer, rid, last, latest, replayed=True)
            yield replay
        while True:
            batch = await _next_batch(sub)
            if batch is None:
                return
            if not batch and not sub.closed:
                yield sse.HEARTBEAT
                continue
            out = []
            for envelope in batch:
                if envelope.kind == "resync" or (envelope.seq and envelope.seq > last + 1):
                    # The broker lost or reordered something: the database has it.
                    if private and not await _still_member(rid, user_id):
                        yield sse.frame("close", "<p>You are no longer a member of this room.</p>")
                        return
                    upto = envelope.seq - 1 if envelope.seq else None
                    gap, last = await _events(renderer, rid, last, upto, replayed=False)
                    out.append(gap)
                    if envelope.kind == "resync":
                        continue
                if envelope.seq:
                    if envelope.seq <= last:
                        continue  # already sent (replayed, or filled)
                    last = envelope.seq
                frame = sub.frame_for(envelope)
                if envelope.kind in shown:
                    if shown[envelope.kind] == frame:
                        continue
                    shown[envelope.kind] = frame
                out.append(frame)
            if out:
                yield b"".join(out)
            if sub.closed:
                return
    finally:
        rt.hub.remove(sub)
        if entered:  # a stream that never entered must not take another tab's presence away
            rt.spawn(_leave(rt, rid, user_id))


async def _next_batch(sub: Subscriber) -> list | None:
    """The subscriber's queued envelopes ([] when only a heartbeat is due), or None to end now
    (the server is stopping, or the subscriber fell too far behind and must resume)."""
    await sub.wait()
    if sub.closed in ("shutdown", "overflow"):
        return None
    return sub.take()


async def _leave(rt, rid: int, user_id: int) -> None:
    try:
        if await rt.state.leave(rid, user_id):
            await publish.presence(rid, rt)
    except Exception:  # Redis away: the entry expires by itself
        log.warning("could not record leaving room %s", rid)


async def _current(rt, sub: Subscriber, kind: str) -> bytes:
    """The room's current presence or typing: the newest one this process saw, or a fresh render."""
    envelope = rt.hub.latest.get((f"room:{sub.room_id}", kind))
    if envelope is None:
        make = publish.presence_envelope if kind == "presence" else publish.typing_envelope
        envelope = await make(rt, sub.room_id)
        rt.hub.latest[(f"room:{sub.room_id}", kind)] = envelope
    return sub.frame_for(envelope)


async def _still_member(rid: int, user_id: int) -> bool:
    return await Membership.filter(room_id=rid, user_id=user_id).exists()


async def _events(renderer, rid: int, after: int, upto: int | None, *, replayed: bool):
    """Frames of the room's events after `after` (up to `upto`), as the messages are now."""
    frames = []
    last = after
    while upto is None or last < upto:
        batch = await events_after(rid, last, 500)
        for event in batch:
            if upto is not None and event.seq > upto:
                break
            frames.append(renderer.message_frame(event.kind, event.message, event.seq, replayed=replayed))
            last = event.seq
        if len(batch) < 500 or (upto is not None and last >= upto):
            break
    return b"".join(frames), last


@bp.get("/events")
async def user_events():
    rt = g.runtime
    topics = await _topics_for(g.user.id, None)
    if _over_cap(rt, g.user.id):
        return await _too_many_streams()
    sub = Subscriber(g.user.id, 0, topics)
    return stream_response(_user_stream(rt, sub, _subscribe(rt, sub)))


async def _user_stream(rt, sub, started):
    try:
        started.cancel()
        if sub.closed == "abandoned":
            return
        yield sse.OPENING
        while True:
            batch = await _next_batch(sub)
            if batch is None:
                return
            if not batch and not sub.closed:
                yield sse.HEARTBEAT
                continue
            out = [sub.frame_for(e) for e in batch if e.kind != "resync"]
            if out:
                yield b"".join(out)
            if sub.closed:
                return
    finally:
        rt.hub.remove(sub)
