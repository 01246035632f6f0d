"""The command line: `python -m webchat [serve|migrate]`, `python -m webchat admin grant|revoke USERNAME`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from webchat import db, server
from webchat.accounts.names import find_user
from webchat.admin.service import NotAllowed, set_admin
from webchat.config import ConfigError, load_settings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m webchat", description="webchat server")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate", "admin"])
    parser.add_argument("arguments", nargs="*", help="admin: grant|revoke USERNAME")
    args = parser.parse_args(argv)
    if args.command == "admin" and (len(args.arguments) != 2 or args.arguments[0] not in ("grant", "revoke")):
        parser.error("usage: python -m webchat admin grant|revoke USERNAME")
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

    if args.command == "admin":
        return asyncio.run(admin_command(settings.database_url, *args.arguments))

    if settings.embedded_database:
        asyncio.run(db.migrate(settings.database_url))
    print(f"webchat: serving on http://0.0.0.0:{settings.port}", flush=True)
    server.run(settings)
    return 0


async def admin_command(database_url: str, action: str, username: str) -> int:
    """Make someone a site administrator, or no longer one (written to the audit log)."""
    await db.open_database(database_url)
    try:
        user = await find_user(username)
        if user is None or user.deleted:
            print(f"webchat: there is no account {username!r}", file=sys.stderr)
            return 1
        try:
            changed = await set_admin(None, user, action == "grant")
        except NotAllowed as refusal:
            print(f"webchat: {refusal}", file=sys.stderr)
            return 1
        state = "an administrator" if action == "grant" else "not an administrator"
        print(f"webchat: @{user.username} is {state}" + ("" if changed else " already"))
        return 0
    finally:
        await db.close_database()


if __name__ == "__main__":
    sys.exit(main())
