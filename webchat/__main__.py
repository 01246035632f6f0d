"""The command line: `python -m webchat [serve|migrate]`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from webchat import db, server
from webchat.config import ConfigError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webchat", description="webchat server")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate"])
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"webchat: {error}", file=sys.stderr)
        return 2

    if args.command == "migrate":
        asyncio.run(db.migrate(settings.database_url))
        print("webchat: migrations applied")
        return 0

    if settings.embedded_database:
        asyncio.run(db.migrate(settings.database_url))
    print(f"webchat: serving on http://0.0.0.0:{settings.port}", flush=True)
    server.run(settings)
    return 0


if __name__ == "__main__":
    sys.exit(main())
