"""The server: the front door on the public port, Hypercorn behind it, and the stop on SIGTERM.

Every connection first meets the front door (webchat.live.frontdoor): a connection that asks for
an event stream is served there, straight from the hub; any other is handed to Hypercorn, which
serves the Quart app. Hypercorn is driven here the way its own `serve` drives it (the app's
lifespan, one worker context, one TCPServer per connection: tests/test_server.py checks that the
pinned version still has those), with our own listening socket in front.

SIGTERM and SIGINT set the runtime's `stopping`: every stream ends at once (browsers reconnect
elsewhere and resume), then the door closes, idle connections go, and the app shuts down.
`WEB_CONCURRENCY` runs that many such processes on the one port (SO_REUSEPORT), joined by Redis.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import socket
import sys

import uvloop
from hypercorn.asyncio.lifespan import Lifespan
from hypercorn.asyncio.tcp_server import TCPServer
from hypercorn.asyncio.worker_context import WorkerContext
from hypercorn.config import Config
from hypercorn.utils import wrap_app
from quart.wrappers.base import ClientDisconnectedError

from webchat.app import create_app
from webchat.config import Settings
from webchat.live.frontdoor import Door

log = logging.getLogger("webchat.server")


# A peer that stops reading (or vanishes) while we have bytes for it is dropped by the kernel after
# this long: a stream that never reads cannot hold its socket, its task or a shutdown forever.
# Streams resume losslessly from Last-Event-ID, so a dropped connection costs one reconnect.
UNREAD_DATA_TIMEOUT_MS = 10_000
# Idle keep-alive connections close after this long, and so does a connection that has not sent a
# whole request head this long after connecting (slowloris).
KEEP_ALIVE_SECONDS = 20
# Allocations between young-generation collections (CPython's default is 2,000).
GC_THRESHOLD = 20_000


BACKLOG = 2048
GRACE_SECONDS = 5


def listening_socket(port: int, shared: bool = False) -> socket.socket:
    """The server socket, made here so that the sockets it accepts inherit our TCP options.
    `shared`: one of several processes' sockets on the same port (the kernel spreads connections)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if shared:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if hasattr(socket, "TCP_USER_TIMEOUT"):  # Linux
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, UNREAD_DATA_TIMEOUT_MS)
    sock.bind(("0.0.0.0", port))
    return sock


def hypercorn_config() -> Config:
    config = Config()
    config.accesslog = None
    config.errorlog = "-"
    # No read timeout: a browser sends nothing after its request on a stream.
    config.read_timeout = None
    # Slowloris: at most 16 KiB of unfinished request head, and Hypercorn closes a connection
    # that has not finished its request head within keep_alive_timeout seconds of connecting
    # (its idle timer runs from the connection's start until a whole request head has arrived).
    config.h11_max_incomplete_size = 16 * 1024
    config.keep_alive_timeout = KEEP_ALIVE_SECONDS
    config.graceful_timeout = GRACE_SECONDS
    return config


def _client_gone(error: BaseException | None) -> bool:
    """True for the ways a socket fails when the client has gone (reset, timed out, closed)."""
    if isinstance(error, BaseExceptionGroup):
        return all(_client_gone(inner) for inner in error.exceptions)
    return isinstance(error, (ClientDisconnectedError, ConnectionError, TimeoutError))


class ClientGoneFilter(logging.Filter):
    """A client that vanished (its socket reset or timed out mid-response) is not a server error:
    log it as one line at INFO instead of an ERROR with a traceback, so real errors stand out."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.levelno >= logging.ERROR and record.exc_info and _client_gone(record.exc_info[1]):
            record.msg = "client connection lost mid-response: %s"
            record.args = (type(record.exc_info[1]).__name__,)
            record.exc_info = record.exc_text = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return True


def _loop_exception_handler(loop: asyncio.AbstractEventLoop, context: dict) -> None:
    if _client_gone(context.get("exception")):
        log.info("client connection lost: %s", type(context["exception"]).__name__)
        return
    loop.default_exception_handler(context)


def tune_garbage_collector() -> None:
    """Thousands of long-lived streams make each full collection walk millions of objects (seen as
    second-long pauses in a 10,000-subscriber fan-out). What start-up built is never garbage, so it
    is frozen out of collections, and collections run less often: chat traffic makes few cycles."""
    gc.collect()
    gc.freeze()
    gc.set_threshold(GC_THRESHOLD, 20, 100)


async def serve(settings: Settings, sock: socket.socket) -> None:
    app = create_app(settings)
    tune_garbage_collector()
    runtime = app.extensions["webchat"]
    loop = asyncio.get_running_loop()
    loop.set_exception_handler(_loop_exception_handler)
    logging.getLogger("hypercorn.error").addFilter(ClientGoneFilter())

    def on_signal(signum: int) -> None:
        log.info("received %s: ending streams and stopping", signal.Signals(signum).name)
        runtime.stopping.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)

    config = hypercorn_config()
    asgi = wrap_app(app, config.wsgi_max_body_size, "asgi")
    state: dict = {}
    lifespan = Lifespan(asgi, config, loop, state)
    lifespan_task = loop.create_task(lifespan.handle_lifespan())
    await lifespan.wait_for_startup()  # before_serving: the database, the runtime
    if lifespan_task.done() and lifespan_task.exception() is not None:
        raise lifespan_task.exception()
    context = WorkerContext(None)
    connections: set[asyncio.Task] = set()

    async def hypercorn(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        connections.add(task)
        task.add_done_callback(connections.discard)
        await TCPServer(asgi, loop, config, context, state, reader, writer)

    door = Door(app.extensions["webchat.streams"], hypercorn, KEEP_ALIVE_SECONDS)
    server = await loop.create_server(door, sock=sock, backlog=BACKLOG)
    try:
        await runtime.stopping.wait()
        # Let every stream send its last bytes and close before the door closes.
        await runtime.hub.wait_empty(timeout=GRACE_SECONDS)
    finally:
        server.close()
        await context.terminated.set()  # Hypercorn closes its idle keep-alive connections
        if connections:
            await asyncio.wait(list(connections), timeout=GRACE_SECONDS)
        await lifespan.wait_for_shutdown()  # after_serving: the runtime, the database
        lifespan_task.cancel()
        await asyncio.gather(lifespan_task, return_exceptions=True)


def run(settings: Settings) -> None:
    if settings.workers == 1:
        asyncio.run(serve(settings, listening_socket(settings.port)), loop_factory=uvloop.new_event_loop)
        return
    sys.exit(_supervise(settings))


def _supervise(settings: Settings) -> int:
    """WEB_CONCURRENCY: that many worker processes, each with its own socket on the one port; a
    signal is passed on to all of them; when one dies, the others are stopped too (the platform
    restarts the whole, as it does a crashed dyno)."""
    children: list[int] = []
    for n in range(settings.workers):
        pid = os.fork()
        if pid == 0:
            code = 0
            try:
                asyncio.run(serve(settings, listening_socket(settings.port, shared=True)),
                            loop_factory=uvloop.new_event_loop)
            except BaseException:
                log.exception("worker %d failed", n + 1)
                code = 1
            finally:
                os._exit(code)
        children.append(pid)
    log.info("serving with %d worker processes: %s", len(children), children)

    def pass_on(signum, _frame) -> None:
        for child in children:
            try:
                os.kill(child, signum)
            except ProcessLookupError:
                pass

    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, pass_on)
    status = 0
    while children:
        pid, code = os.wait()
        if pid in children:
            children.remove(pid)
            if os.waitstatus_to_exitcode(code) != 0 and children:
                log.warning("worker %d ended with %d: stopping the others", pid, os.waitstatus_to_exitcode(code))
                status = 1
                pass_on(signal.SIGTERM, None)
    return status
