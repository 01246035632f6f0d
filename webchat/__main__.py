"""The command line: `python -m webchat [serve|migrate]`, `python -m webchat token create …`,
`python -m webchat admin grant|revoke USERNAME`, `python -m webchat files cleanup`,
`python -m webchat translations`."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from webchat import db, server
from webchat.api import tokens
from webchat.accounts.names import find_user
from webchat.admin.service import NotAllowed, set_admin
from webchat.config import ConfigError, load_settings
from webchat.files import service as files
from webchat.files.storage import open_storage
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
    if argv[:1] == ["translations"]:
        from webchat import catalogs  # Babel's extraction tools: only for this command

        for catalog in catalogs.update():
            print(f"webchat: updated {catalog}")
        return 0
    if argv[:1] == ["token"]:
        token_args = _token_parser().parse_args(argv[1:])
    else:
        parser = argparse.ArgumentParser(prog="python -m webchat", description="webchat server")
        parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate", "token", "admin", "files", "translations"])
        parser.add_argument("arguments", nargs="*", help="admin: grant|revoke USERNAME; files: cleanup")
        args = parser.parse_args(argv)
        if args.command == "admin" and (len(args.arguments) != 2 or args.arguments[0] not in ("grant", "revoke")):
            parser.error("usage: python -m webchat admin grant|revoke USERNAME")
        if args.command == "files" and args.arguments != ["cleanup"]:
            parser.error("usage: python -m webchat files cleanup")
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

    if args.command == "admin":
        return asyncio.run(admin_command(settings.database_url, *args.arguments))

    if args.command == "files":
        removed = asyncio.run(files_cleanup(settings))
        print(f"webchat: {removed} abandoned upload{'' if removed == 1 else 's'} deleted")
        return 0

    if settings.embedded_database:
        asyncio.run(db.migrate(settings.database_url))
    print(f"webchat: serving on http://0.0.0.0:{settings.port}", flush=True)
    server.run(settings)
    return 0


async def files_cleanup(settings) -> int:
    """Delete stored files that no message names (uploads abandoned by a crash), older than an hour."""
    await db.open_database(settings.database_url)
    try:
        return await files.cleanup(open_storage(settings.storage_url))
    finally:
        await db.close_database()


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
