"""The ``partsbot`` command: run, chat, serve, demo, db upgrade, export, outbox, teams-package.

Every subcommand loads and checks the settings first; a wrong setting ends the program with one line
on stderr and exit code 2, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import subprocess
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


def open_database(settings: Settings, *, migrate_aside: bool = False) -> Database:
    """Check the database, apply migrations, and return a ready :class:`Database`.

    ``migrate_aside`` (``partsbot serve``): pending migrations run in a short-lived child process, so a
    long-running server never holds Alembic and Mako (about 13 MB) for the one upgrade at its start."""
    from bot.storage import migrate
    from bot.storage.db import Database

    if settings.database_url.startswith("sqlite:///") and not settings.database_url.startswith("sqlite:///:"):
        path = Path(settings.database_url.removeprefix("sqlite:///"))
        if path.parent and not path.parent.exists():
            raise SettingsError(f"DATABASE_URL points into a folder that does not exist: {path.parent}")
    db = Database(settings.database_url)
    db.check()
    if not migrate_aside:
        migrate.upgrade(settings.database_url)
    elif not migrate.is_current(settings.database_url):
        # The same command an operator runs, with the same environment (and so the same settings).
        done = subprocess.run([sys.executable, "-m", "bot", "db", "upgrade"], stdout=sys.stderr, check=False)
        if done.returncode != 0:
            raise SettingsError(
                f"the database could not be upgraded (`partsbot db upgrade` exited {done.returncode})"
            )
    return db


def build_bot(settings: Settings, *, migrate_aside: bool = False) -> Partsbot:
    from bot.core import Partsbot
    from handlers import build_router

    return Partsbot(settings, open_database(settings, migrate_aside=migrate_aside), build_router())


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

    return serve(settings, build_bot(settings, migrate_aside=True))


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


def cmd_outbox(settings: Settings, retry: bool) -> int:
    """What waits to be sent (parked items first), without content; ``retry`` puts parked items back."""
    from datetime import UTC, datetime

    from bot.chat.delivery import retry_parked, waiting

    db = open_database(settings)
    try:
        if retry:
            print(f"{retry_parked(db, datetime.now(UTC))} parked item(s) put back into their lanes")
            return 0
        items = waiting(db)
        if not items:
            print("the outbox is empty: everything was delivered")
            return 0
        for item in items:
            state = "PARKED" if item.parked else "waiting"
            due = item.next_attempt_at.strftime("%Y-%m-%d %H:%M:%S")
            print(
                f"{item.id:>8} {state:<7} {item.kind:<8} {item.lane:<50} tries={item.attempts:<4} next={due}"
            )
            if item.last_error:
                print(f"{'':>8} {item.last_error}")
        return 0
    finally:
        db.dispose()


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


def cmd_export(settings: Settings, unit: str, fmt: str, out: str, language: str | None, trio: bool) -> int:
    from bot.record.export import UnitNotFound, export_unit
    from bot.record.files import FORMATS

    if fmt not in FORMATS:
        raise SettingsError(f"--format must be one of {', '.join(FORMATS)}")
    db = open_database(settings)
    try:
        path = export_unit(db, unit, fmt, Path(out), language=language, for_trio=trio)
    except UnitNotFound as exc:
        print(f"partsbot: {exc}", file=sys.stderr)
        return 2
    finally:
        db.dispose()
    print(f"wrote {path}")
    return 0


def cmd_secret_key() -> int:
    from bot.crypto import new_key

    print(new_key())
    return 0


def cmd_secrets_rotate(settings: Settings) -> int:
    """Re-encrypt every stored secret with the first key of ``PARTSBOT_SECRET_KEY`` (and encrypt what was
    stored before encryption was switched on)."""
    from sqlalchemy import select, update

    from bot.adapters.slack.models import TOKEN_COLUMNS
    from bot.adapters.teams.references import CARD_SECRET_KEY
    from bot.crypto import Box
    from bot.storage.models import KeyValue

    box = Box(settings.secret_key)
    if not box.enabled:
        raise SettingsError("PARTSBOT_SECRET_KEY is not set: there is nothing to encrypt with")
    db = open_database(settings)
    changed = 0
    try:
        with db.transaction() as session:
            for table, names in TOKEN_COLUMNS.items():
                key = next(iter(table.primary_key.columns))
                for row in session.execute(select(table)).mappings():
                    values = {n: box.rotate(row[n]) for n in names if row[n] is not None}
                    if values:
                        session.execute(update(table).where(key == row[key.name]).values(**values))
                        changed += 1
            card = session.get(KeyValue, CARD_SECRET_KEY)
            if card is not None:
                card.value = box.rotate(card.value) or ""
                changed += 1
    finally:
        db.dispose()
    print(f"re-encrypted {changed} stored secret(s) with the first key of PARTSBOT_SECRET_KEY")
    return 0


def cmd_data(
    settings: Settings, action: str, person: list[str] | None, unit: list[str] | None, out: str | None
) -> int:
    """``partsbot data export|erase --person PLATFORM WORKSPACE USER_ID | --unit PLATFORM WORKSPACE CHANNEL``:
    the operator's side of access and erasure requests (bot/storage/personal.py)."""
    import json

    from sqlalchemy import select

    from bot.schema import metadata
    from bot.storage import personal
    from bot.storage.models import Member, Organisation, Unit

    metadata()  # every area's tables and declarations are loaded
    platform, workspace, ident = person or unit or ["", "", ""]
    db = open_database(settings)
    try:
        with db.transaction() as session:
            org = session.scalar(
                select(Organisation).where(
                    Organisation.platform == platform, Organisation.external_id == workspace
                )
            )
            if org is None:
                raise SettingsError(f"no organisation {platform}/{workspace} in the database")
            former = t(settings.language, "privacy.former_colleague")
            if person:
                member = session.scalar(
                    select(Member).where(Member.organisation_id == org.id, Member.user_id == ident)
                )
                if member is None:
                    raise SettingsError(f"no person {ident} in {platform}/{workspace}")
                if action == "export":
                    note = t(settings.language, "privacy.mine.anonymous_note")
                    text = personal.export_person(session, member).as_json(note)
                else:
                    done = personal.erase_person(session, member, former)
                    text = f"erased {ident} in {platform}/{workspace}: {sum(done.values())} rows changed"
            else:
                found = session.scalar(
                    select(Unit).where(Unit.organisation_id == org.id, Unit.channel_id == ident)
                )
                if found is None:
                    raise SettingsError(f"no unit for channel {ident} in {platform}/{workspace}")
                if action == "export":
                    text = json.dumps(
                        personal.export_unit(session, found), ensure_ascii=False, indent=2, default=str
                    )
                else:
                    erased = personal.delete_unit(session, found, former)
                    text = f"deleted unit {ident} in {platform}/{workspace}; {erased} people erased"
    finally:
        db.dispose()
    if out and action == "export":
        path = Path(out)
        path.write_text(text, encoding="utf-8")
        path.chmod(0o600)
        print(f"wrote {path}")
    else:
        print(text)
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
    outbox = sub.add_parser(
        "outbox", help="list undelivered messages (parked ones first), or retry parked ones"
    )
    outbox.add_argument("action", nargs="?", default="list", choices=("list", "retry"))
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

    data = sub.add_parser("data", help="a person's or a unit's data: export (access request) or erase")
    data.add_argument("data_action", choices=("export", "erase"))
    who = data.add_mutually_exclusive_group(required=True)
    who.add_argument("--person", nargs=3, metavar=("PLATFORM", "WORKSPACE", "USER_ID"))
    who.add_argument("--unit", nargs=3, metavar=("PLATFORM", "WORKSPACE", "CHANNEL"))
    data.add_argument("--out", default=None, help="write the export to this file (mode 600)")
    export = sub.add_parser("export", help="write a unit's HMS record (cases, plans, meetings, course)")
    export.add_argument("--unit", required=True, help="the unit's id, or its name when that is unique")
    export.add_argument("--format", dest="fmt", default="pdf", choices=("pdf", "csv", "json"))
    export.add_argument("--out", default=".", help="a folder (the file is named for you) or a file name")
    export.add_argument("--language", default=None, choices=("nb", "nn", "en"), help="default: the unit's")
    export.add_argument(
        "--trio",
        action="store_true",
        help="include cases for the parties only (for the leader, verneombud and tillitsvalgt alone)",
    )
    sub.add_parser("secret-key", help="print a new key for PARTSBOT_SECRET_KEY")
    sec = sub.add_parser("secrets", help="stored secrets")
    sec_sub = sec.add_subparsers(dest="secrets_command", required=True)
    sec_sub.add_parser("rotate", help="re-encrypt stored tokens with the first key of PARTSBOT_SECRET_KEY")
    pkg = sub.add_parser("teams-package", help="write the Teams app package zip")
    pkg.add_argument("--out", default="build/partsbot-teams.zip")
    pkg.add_argument("--domain", default=None, help="the public host name of partsbot serve")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    command = args.command or "run"
    if command == "secret-key":
        return cmd_secret_key()  # before the settings: production without a key asks for exactly this
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
            "outbox": lambda: cmd_outbox(settings, args.action == "retry"),
            "teams-package": lambda: cmd_teams_package(settings, args.out, args.domain),
            "roles": lambda: cmd_roles(settings, args),
            "export": lambda: cmd_export(settings, args.unit, args.fmt, args.out, args.language, args.trio),
            "secrets": lambda: cmd_secrets_rotate(settings),
            "data": lambda: cmd_data(settings, args.data_action, args.person, args.unit, args.out),
        }
        return actions[command]()
    except SettingsError as exc:
        print(f"partsbot: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
