"""Hypercorn, started programmatically so that SIGTERM ends every open stream.

Hypercorn's own graceful shutdown waits for every connection to close, and an SSE stream never
closes by itself: so the signal sets the app's `stopping` event, every stream generator ends when it
is set, and only then does Hypercorn's shutdown trigger fire.
"""

from __future__ import annotations

import asyncio
import logging
import signal

from hypercorn.asyncio import serve as hypercorn_serve
from hypercorn.config import Config

from webchat import create_app
from webchat.config import Settings

log = logging.getLogger("webchat.server")


def hypercorn_config(settings: Settings) -> Config:
    config = Config()
    config.bind = [f"0.0.0.0:{settings.port}"]
    config.accesslog = None
    config.errorlog = "-"
    # No read timeout: a browser sends nothing after its request on a stream.
    config.read_timeout = None
    # Slowloris: a client must finish its request headers within this many seconds.
    config.h11_max_incomplete_size = 16 * 1024
    config.keep_alive_timeout = 20
    config.graceful_timeout = 5
    config.backlog = 2048
    return config


async def serve(settings: Settings) -> None:
    app = create_app(settings)
    runtime = app.extensions["webchat"]
    loop = asyncio.get_running_loop()

    def on_signal(signum: int) -> None:
        log.info("received %s: ending streams and stopping", signal.Signals(signum).name)
        runtime.stopping.set()

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, on_signal, sig)

    async def shutdown_trigger() -> None:
        await runtime.stopping.wait()
        # Let every stream send its last bytes and close before Hypercorn stops accepting.
        await runtime.hub.wait_empty(timeout=5)

    await hypercorn_serve(app, hypercorn_config(settings), shutdown_trigger=shutdown_trigger)


def run(settings: Settings) -> None:
    import uvloop

    asyncio.run(serve(settings), loop_factory=uvloop.new_event_loop)
