"""The command line: `python -m webchat [serve|migrate]`, `python -m webchat token create …`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from webchat import db, server
from webchat.api import tokens
from webchat.config import ConfigError, load_settings
from webchat.models import User


def _token_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m webchat token", description="API tokens")
    parser.add_argument("action", choices=["create"])
    parser.add_argument("username", help="the person the token belongs to")
    parser.add_argument("--bot", metavar="NAME", help="make it for this bot of theirs (created if new)")
    parser.add_argument("--scope", action="append", choices=tokens.SCOPES,
                        help="read, post (repeat for both; default: both)")
    parser.add_argument("--name", default="command line", help="what the token is for")
    parser.add_argument("--expires-days", type=int, default=None)
    return parser


async def _create_token(database_url: str, args: argparse.Namespace) -> str:
    await db.open_database(database_url)
    try:
        owner = await User.get_or_none(username_key=args.username.lower())
        if owner is None or owner.is_bot:
            raise tokens.TokenError({"username": f"There is no person called {args.username!r}."})
        account = None
        if args.bot:
            account = await tokens.bot_named(owner, args.bot) or await tokens.create_bot(owner, args.bot)
        made = await tokens.create(owner, args.name, args.scope or list(tokens.SCOPES), args.expires_days, account)
        return made.secret
    finally:
        await db.close_database()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["token"]:
        token_args = _token_parser().parse_args(argv[1:])
    else:
        parser = argparse.ArgumentParser(prog="python -m webchat", description="webchat server")
        parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate", "token"])
        args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        settings = load_settings()
    except ConfigError as error:
        print(f"webchat: {error}", file=sys.stderr)
        return 2

    if argv[:1] == ["token"]:
        try:
            print(asyncio.run(_create_token(settings.database_url, token_args)))
        except tokens.TokenError as error:
            print(f"webchat: {error}", file=sys.stderr)
            return 1
        return 0

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
