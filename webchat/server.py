"""Hypercorn, started programmatically so that SIGTERM ends every open stream.

Hypercorn's own graceful shutdown waits for every connection to close, and an SSE stream never
closes by itself: so the signal sets the app's `stopping` event, every stream generator ends when it
is set, and only then does Hypercorn's shutdown trigger fire.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
import socket

import uvloop
from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config
from quart.wrappers.base import ClientDisconnectedError

from webchat.app import create_app
from webchat.config import Settings

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


def listening_socket(port: int) -> socket.socket:
    """The server socket, made here so that the sockets it accepts inherit our TCP options."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if hasattr(socket, "TCP_USER_TIMEOUT"):  # Linux
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_USER_TIMEOUT, UNREAD_DATA_TIMEOUT_MS)
    sock.bind(("0.0.0.0", port))
    return sock


def hypercorn_config(settings: Settings, sock: socket.socket | None = None) -> Config:
    config = Config()
    # Hypercorn adopts the socket by its file descriptor (and listens on it with `backlog`).
    config.bind = [f"fd://{sock.detach()}"] if sock is not None else [f"0.0.0.0:{settings.port}"]
    config.accesslog = None
    config.errorlog = "-"
    # No read timeout: a browser sends nothing after its request on a stream.
    config.read_timeout = None
    # Slowloris: at most 16 KiB of unfinished request head, and Hypercorn closes a connection
    # that has not finished its request head within keep_alive_timeout seconds of connecting
    # (its idle timer runs from the connection's start until a whole request head has arrived).
    config.h11_max_incomplete_size = 16 * 1024
    config.keep_alive_timeout = KEEP_ALIVE_SECONDS
    config.graceful_timeout = 5
    config.backlog = 2048
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


async def serve(settings: Settings) -> None:
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

    async def shutdown_trigger() -> None:
        await runtime.stopping.wait()
        # Let every stream send its last bytes and close before Hypercorn stops accepting.
        await runtime.hub.wait_empty(timeout=5)

    config = hypercorn_config(settings, listening_socket(settings.port))
    await hypercorn_serve(app, config, shutdown_trigger=shutdown_trigger)


def run(settings: Settings) -> None:
    asyncio.run(serve(settings), loop_factory=uvloop.new_event_loop)
