"""The router on its own: registration, dispatch by kind, and how errors become answers."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Action, Actor, Command, Event, Message, Place, Post, Private, Submission
from bot.chat.router import Router
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import KeyValue, Member, RoleAssignment, Unit

PLACE = Place("slack", "T1", "C1")
ACTOR = Actor("U1", "Kari")


def make_router() -> Router:
    router = Router()

    @router.command("lagre", "save")
    def save(ctx: HandlerContext, cmd: Command) -> None:
        ctx.session.add(KeyValue(key=cmd.args, value="x"))
        ctx.reply("lagret")

    @router.command("feil")
    def fails(ctx: HandlerContext, cmd: Command) -> None:
        ctx.session.add(KeyValue(key="half-done", value="x"))
        ctx.reply("this must not be sent")
        raise UserError("errors.empty_text")

    @router.command("krasj")
    def crashes(ctx: HandlerContext, cmd: Command) -> None:
        ctx.session.add(KeyValue(key="half-done", value="x"))
        raise RuntimeError("boom")

    @router.command("dobbel")
    def twice(ctx: HandlerContext, cmd: Command) -> None:
        ctx.session.add(KeyValue(key="same", value=cmd.args))
        ctx.session.flush()
        ctx.session.add(RoleAssignment(unit_id=ctx.require_unit().id, member_id=ctx.member.id, role="leder"))
        ctx.session.add(RoleAssignment(unit_id=ctx.require_unit().id, member_id=ctx.member.id, role="leder"))
        ctx.session.flush()

    @router.command("nullfeil")
    def null_bug(ctx: HandlerContext, cmd: Command) -> None:
        ctx.session.add(KeyValue(key="half-done", value="x"))
        ctx.session.add(Member(organisation_id=None, user_id=cmd.args))  # a bug: every member has one
        ctx.session.flush()

    @router.action("a.b")
    def act(ctx: HandlerContext, action: Action) -> None:
        ctx.private(f"action {action.value}")

    @router.form("f")
    def form(ctx: HandlerContext, sub: Submission) -> None:
        ctx.private(f"form {sub.values['x']} {sub.context}")

    return router


def handle(db: Database, router: Router, event: Event) -> list[Any]:
    with db.transaction() as session:
        return list(router.handle(session, Settings(env="test"), event, datetime.now(UTC)))


def count(db: Database, model: type) -> int:
    with db.transaction() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_command_and_alias_dispatch(database: Database) -> None:
    router = make_router()
    effects = handle(database, router, Command(ACTOR, PLACE, "save", "k1"))
    assert effects == [Post(PLACE, effects[0].reply)]
    assert count(database, KeyValue) == 1
    # First contact created the member and the unit bound to the channel.
    assert count(database, Member) == 1
    assert count(database, Unit) == 1


def test_user_error_rolls_back_handler_writes_and_answers_privately(database: Database) -> None:
    effects = handle(database, make_router(), Command(ACTOR, PLACE, "feil"))
    assert len(effects) == 1 and isinstance(effects[0], Private)
    assert effects[0].reply.fallback == "Teksten er tom. Skriv noen ord, så tar jeg det med."
    assert count(database, KeyValue) == 0
    assert count(database, Member) == 1  # bookkeeping kept


def test_crash_is_logged_and_answered_without_traceback(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    effects = handle(database, make_router(), Command(ACTOR, PLACE, "krasj"))
    assert isinstance(effects[0], Private)
    assert "noe gikk galt" in effects[0].reply.fallback
    assert "boom" not in effects[0].reply.fallback
    assert count(database, KeyValue) == 0
    assert any("handler failed for command 'krasj' in slack/T1/C1" in r.message for r in caplog.records)


def test_actions_forms_and_unknowns(database: Database) -> None:
    router = make_router()
    assert handle(database, router, Action(ACTOR, PLACE, "a.b", "7"))[0].reply.fallback == "action 7"
    sub = Submission(ACTOR, PLACE, "f", {"x": "1"}, "ctx")
    assert handle(database, router, sub)[0].reply.fallback == "form 1 ctx"
    unknown = handle(database, router, Action(ACTOR, PLACE, "nope"))
    assert "kjenner jeg ikke igjen" in unknown[0].reply.fallback
    # Ordinary channel chatter is not the bot's business: no answer at all.
    assert handle(database, router, Message(ACTOR, PLACE, "hei")) == []


def test_duplicate_registration_is_refused() -> None:
    router = make_router()
    with pytest.raises(ValueError):
        router.command("save")(lambda ctx, cmd: None)


def test_direct_message_uses_home_unit(database: Database) -> None:
    router = make_router()
    dm = Place("slack", "T1", "D1", is_direct=True)
    effects = handle(database, router, Command(ACTOR, dm, "lagre", "k"))
    # No unit known yet for a direct message: handlers that need one say so (require_unit).
    assert effects
    handle(database, router, Command(ACTOR, PLACE, "lagre", "k2"))
    with database.transaction() as session:
        member = session.scalar(select(Member))
        assert member is not None and member.home_unit_id is not None


def test_a_known_unique_key_is_answered_as_already_registered(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    router = make_router()
    with caplog.at_level("INFO", logger="bot.chat.router"):
        effects = handle(database, router, Command(ACTOR, PLACE, "dobbel", "hemmelig tekst"))
    assert [e.reply.fallback for e in effects] == ["Det er allerede registrert. Ingenting ble endret."]
    assert "duplicate ignored (uq_role_assignment_unit_id_member_id_role)" in caplog.text
    assert count(database, KeyValue) == 0


def test_any_other_integrity_error_is_a_bug_logged_without_the_row(
    database: Database, caplog: pytest.LogCaptureFixture
) -> None:
    """NOT NULL (like a foreign key or CHECK) is not a double click: "noe gikk galt", and a log line that
    says where, without the driver's message (it quotes the row, and so what a person wrote)."""
    router = make_router()
    with caplog.at_level("INFO", logger="bot.chat.router"):
        effects = handle(database, router, Command(ACTOR, PLACE, "nullfeil", "hemmelig tekst"))
    assert [e.reply.fallback for e in effects] == [
        "Beklager, noe gikk galt hos meg. Ingenting av det du sendte ble lagret – prøv igjen om litt."
    ]
    (line,) = [r for r in caplog.records if r.levelname == "ERROR"]
    assert line.getMessage().startswith("integrity error ")
    assert "tests/test_router.py:" in line.getMessage()
    assert "hemmelig" not in caplog.text
    assert count(database, KeyValue) == 0
