"""The ``partsbot`` command: run, chat, serve, demo, db upgrade, teams-package.

Every subcommand loads and checks the settings first; a wrong setting ends the program with one line
on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from bot.i18n import t
from bot.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from bot.core import Partsbot
    from bot.storage.db import Database

log = logging.getLogger("partsbot")


def configure_logging(settings: Settings, *, quiet: bool = False) -> None:
    # In the console chat, log lines would mix with the conversation: only warnings go to stderr there.
    level = logging.WARNING if quiet else getattr(logging, settings.log_level)
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr, force=True
    )
    from bot.logs import cap_libraries

    cap_libraries(level)


def open_database(settings: Settings) -> Database:
    """Check the database, apply migrations, and return a ready :class:`Database`."""
    from bot.storage import migrate
    from bot.storage.db import Database

    if settings.database_url.startswith("sqlite:///") and not settings.database_url.startswith("sqlite:///:"):
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        if path.parent and not path.parent.exists():
            raise SettingsError(f"DATABASE_URL points into a folder that does not exist: {path.parent}")
    db = Database(settings.database_url)
    db.check()
    migrate.upgrade(settings.database_url)
    return db


def build_bot(settings: Settings) -> Partsbot:
    from bot.core import Partsbot
    from handlers import build_router

    return Partsbot(settings, open_database(settings), build_router())


def cmd_chat(settings: Settings, announce: bool = False) -> int:
    from bot.adapters.console import ConsoleChat

    bot = build_bot(settings)
    interactive = sys.stdin.isatty()
    if announce:
        print(t(settings.language, "console.no_platforms", database=_safe_url(settings.database_url)))
    chat = ConsoleChat(bot, sys.stdout, echo_input=not interactive)

    async def session() -> None:
        from bot.course.scheduler import build_scheduler

        # The console gets nudges and summaries too, on the real clock, while it is open.
        scheduler = build_scheduler(bot)
        scheduler.start()
        try:
            await chat.run(sys.stdin, interactive=interactive)
        finally:
            scheduler.shutdown()

    try:
        asyncio.run(session())
    except KeyboardInterrupt:
        print()
    finally:
        bot.db.dispose()
    return 0


def cmd_serve(settings: Settings) -> int:
    from bot.server import serve

    return serve(settings, build_bot(settings))


def cmd_run(settings: Settings) -> int:
    if settings.any_platform:
        return cmd_serve(settings)
    return cmd_chat(settings, announce=True)


def cmd_demo(settings: Settings, which: str) -> int:
    if which in ("kurs", "course"):
        from bot.demo.course import run_course_demo

        return run_course_demo(settings, sys.stdout)
    from bot.demo.case import run_demo

    return run_demo(settings, sys.stdout)


def cmd_db_upgrade(settings: Settings) -> int:
    open_database(settings).dispose()
    print(f"database is up to date: {_safe_url(settings.database_url)}")
    return 0


def cmd_teams_package(settings: Settings, out: str, domain: str | None) -> int:
    from bot.teams_package import build_teams_package

    if not settings.microsoft_app_id:
        raise SettingsError("MICROSOFT_APP_ID must be set to build the Teams app package")
    try:
        path = build_teams_package(Path(out), settings.microsoft_app_id, domain)
    except ValueError as exc:
        raise SettingsError(str(exc)) from None
    print(f"wrote {path}")
    return 0


def cmd_roles(settings: Settings, args: argparse.Namespace) -> int:
    """The operator grants or takes a role (a leder when the unit is set up, or to correct a mistake);
    announced in the unit's channel and kept in the role history like any other change."""
    from bot.chat import delivery
    from bot.chat.context import UserError
    from bot.chat.model import Place
    from bot.roles import parse_role
    from handlers.role_grants import operator_command

    role = parse_role(args.role)
    if role is None:
        raise SettingsError(f"unknown role {args.role!r}")
    bot = build_bot(settings)
    now = bot.clock()
    place = Place(args.platform, args.workspace, args.channel)
    try:
        with bot.db.transaction() as session:
            line, effects = operator_command(
                session,
                settings,
                bot.router.steps,
                grant=args.roles_command == "grant",
                place=place,
                user_id=args.user,
                role=role,
                now=now,
                name=args.name,
            )
            delivery.enqueue(session, effects, now, place.platform, place.workspace)
    except UserError as err:
        print(f"partsbot: {t(settings.language, err.key, **err.values)}", file=sys.stderr)
        return 1
    finally:
        bot.db.dispose()
    # The announcement waits in the outbox; the running server (partsbot serve) sends it.
    print(line)
    return 0


def _safe_url(url: str) -> str:
    """The database URL without its password, for messages."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        creds, host = rest.rsplit("@", 1)
        user = creds.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}" if ":" in creds else f"{scheme}://{user}@{host}"
    return url


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="partsbot", description="Partsbot: partssamarbeid in Slack and Teams")
    sub = p.add_subparsers(dest="command")
    sub.add_parser("run", help="serve configured platforms, or open the local console chat")
    sub.add_parser("chat", help="the local console chat")
    sub.add_parser("serve", help="the web server for Slack and Teams")
    demo = sub.add_parser("demo", help="a scripted walk through a whole case (or: demo kurs)")
    demo.add_argument(
        "which",
        nargs="?",
        default="sak",
        choices=("sak", "case", "kurs", "course"),
        help="sak: one case from symptom to agreed plan; kurs: a whole course run on a simulated clock",
    )
    db = sub.add_parser("db", help="database tasks")
    db_sub = db.add_subparsers(dest="db_command", required=True)
    db_sub.add_parser("upgrade", help="apply database migrations")
    roles = sub.add_parser("roles", help="grant or revoke a role as the operator")
    roles_sub = roles.add_subparsers(dest="roles_command", required=True)
    for verb, text in (("grant", "give a role"), ("revoke", "take a role away")):
        cmd = roles_sub.add_parser(verb, help=text)
        cmd.add_argument("platform", choices=("slack", "teams", "console"))
        cmd.add_argument("workspace", help="Slack team id, Teams tenant id, or 'console'")
        cmd.add_argument("channel", help="the unit's channel id (Slack) or conversation id (Teams)")
        cmd.add_argument("user", help="the person's platform user id")
        cmd.add_argument("role", help="leder, verneombud, hovedverneombud, tillitsvalgt or ansatt")
        cmd.add_argument("--name", default="", help="display name, if the person never used Partsbot")
    pkg = sub.add_parser("teams-package", help="write the Teams app package zip")
    pkg.add_argument("--out", default="build/partsbot-teams.zip")
    pkg.add_argument("--domain", default=None, help="the public host name of partsbot serve")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command = args.command or "run"
    try:
        settings = load_settings()
        configure_logging(
            settings, quiet=command in ("chat", "demo") or (command == "run" and not settings.any_platform)
        )
        actions: dict[str, Callable[[], int]] = {
            "run": lambda: cmd_run(settings),
            "chat": lambda: cmd_chat(settings),
            "serve": lambda: cmd_serve(settings),
            "demo": lambda: cmd_demo(settings, args.which),
            "db": lambda: cmd_db_upgrade(settings),
            "teams-package": lambda: cmd_teams_package(settings, args.out, args.domain),
            "roles": lambda: cmd_roles(settings, args),
        }
        return actions[command]()
    except SettingsError as exc:
        print(f"partsbot: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
