"""The router: which handler answers which event, and the one place where errors are turned into answers.

Handlers register by kind:

* ``@router.command("rolle", "role")`` – ``/parts rolle …`` (first name is the canonical one)
* ``@router.action("roles.answer")`` – a button or choice with that ``action_id``
* ``@router.form("roles.answer")`` – a submitted form with that ``form_id``
* ``@router.thread("roles")`` – a message in a thread whose root message key starts with ``roles:``
* ``@router.direct()`` – a direct message that no thread claims

Each event is handled in one database transaction. A :class:`UserError` or a crash rolls back what the
handler wrote (a savepoint) but keeps who-is-who bookkeeping, and is answered privately in the person's
language; a crash is logged with its context, never shown as a traceback in chat.
"""

from __future__ import annotations

import functools
import logging
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import Boolean, Select, and_, bindparam, func, select
from sqlalchemy import event as sa_event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.chat import detached
from bot.chat.context import CheckPassed, FieldError, HandlerContext, UserError
from bot.chat.inbox import Receipt, Replayed, receipt_parameters, record_handled, recorded_cte
from bot.chat.model import Action, Command, Effect, Event, Message, Place, Submission
from bot.chat.steps import StepHooks
from bot.i18n import normalise_language, t
from bot.settings import Settings
from bot.storage.db import duplicate_key
from bot.storage.models import Member, Membership, Organisation, PostedMessage, Unit

log = logging.getLogger(__name__)
_PROJECT = str(Path(__file__).resolve().parents[2])

Handler = Callable[[HandlerContext, Any], None]
H = TypeVar("H", bound=Handler)


@dataclass(frozen=True)
class CommandSpec:
    name: str
    aliases: tuple[str, ...]
    handler: Handler
    # Shown by /parts hjelp, in registration order, with the prompt ``help_key``.
    listed: bool
    help_key: str


def thread_area(key: str | None) -> str | None:
    """``case:12:head`` → ``case``."""
    return key.split(":", 1)[0] if key else None


class Router:
    def __init__(self) -> None:
        self.commands: dict[str, CommandSpec] = {}
        self.command_order: list[str] = []
        self.actions: dict[str, Handler] = {}
        self.forms: dict[str, Handler] = {}
        self.checked_forms: set[str] = set()
        self.threads: dict[str, Handler] = {}
        self.direct_handler: Handler | None = None
        self.fallback_command: Handler | None = None
        # Run after every handled event, in its transaction (e.g. the one-time role review).
        self.after_hooks: list[Callable[[HandlerContext], None]] = []

        # What each step of a case does; filled by the modules that register on this router.
        self.steps = StepHooks()

    # Registration ----------------------------------------------------------------------------------

    def command(
        self, name: str, *aliases: str, listed: bool = True, help_key: str | None = None
    ) -> Callable[[H], H]:
        def register(func: H) -> H:
            spec = CommandSpec(name, aliases, func, listed, help_key or f"help.commands.{name}")
            for word in (name, *aliases):
                if word in self.commands:
                    raise ValueError(f"command {word!r} registered twice")
                self.commands[word] = spec
            self.command_order.append(name)
            return func

        return register

    def action(self, action_id: str) -> Callable[[H], H]:
        return self._into(self.actions, action_id)

    def form(self, form_id: str, *, check: bool = False) -> Callable[[H], H]:
        """``check=True``: the form's fields are checked as they are given (a dry run of the handler, see
        :meth:`check`). Only forms whose handler raises :class:`FieldError` opt in; anonymous ones never
        do, so a check never touches an anonymous answer."""
        if check:
            self.checked_forms.add(form_id)
        return self._into(self.forms, form_id)

    def checks(self, form_id: str) -> bool:
        return form_id in self.checked_forms

    def thread(self, area: str) -> Callable[[H], H]:
        return self._into(self.threads, area)

    def direct(self) -> Callable[[H], H]:
        def register(func: H) -> H:
            self.direct_handler = func
            return func

        return register

    def after_each(self, hook: Callable[[HandlerContext], None]) -> None:
        self.after_hooks.append(hook)

    def unknown_command(self) -> Callable[[H], H]:
        def register(func: H) -> H:
            self.fallback_command = func
            return func

        return register

    @staticmethod
    def _into(table: dict[str, Handler], name: str) -> Callable[[H], H]:
        def register(func: H) -> H:
            if name in table:
                raise ValueError(f"{name!r} registered twice")
            table[name] = func
            return func

        return register

    def listed_commands(self) -> list[CommandSpec]:
        return [self.commands[name] for name in self.command_order if self.commands[name].listed]

    # Dispatch --------------------------------------------------------------------------------------

    def find(self, event: Event, thread_key: str | None) -> Handler | None:
        match event:
            case Command(name=name):
                spec = self.commands.get(name)
                return spec.handler if spec else self.fallback_command
            case Action(action_id=action_id):
                return self.actions.get(action_id)
            case Submission(form_id=form_id):
                return self.forms.get(form_id)
            case Message(place=place):
                area = thread_area(thread_key)
                if area and area in self.threads:
                    return self.threads[area]
                if place.is_direct:
                    return self.direct_handler
                return None
        return None

    def handle(
        self,
        session: Session,
        settings: Settings,
        event: Event,
        now: datetime,
        receipt: Receipt | None = None,
    ) -> list[Effect]:
        """Handle one event inside the caller's transaction and return the effects to deliver.

        ``receipt``: the event is a request handled before its acknowledgement; its key is remembered in
        this transaction, and :class:`~bot.chat.inbox.Replayed` is raised, before anything is changed, when
        it was handled before."""
        return self._run(session, settings, event, now, keep=True, receipt=receipt)[0]

    def check(self, session: Session, settings: Settings, event: Submission, now: datetime) -> dict[str, str]:
        """Field name → what is wrong with it, for a form about to be submitted; nothing is kept.

        The form's own handler is run and rolled back, so the checks are exactly those of a real
        submission, and platforms can show them before the form closes. It stops where the handler would
        insert new rows: checks come before storing, and an insert would use up an id for nothing.
        """
        return self._run(session, settings, event, now, keep=False)[1]

    def _run(
        self,
        session: Session,
        settings: Settings,
        event: Event,
        now: datetime,
        keep: bool,
        receipt: Receipt | None = None,
    ) -> tuple[list[Effect], dict[str, str]]:
        organisation, member, unit = who_and_where(session, settings, event, receipt, now)
        thread_key = _thread_key(session, event.place)
        language = normalise_language(member.language or (unit.language if unit else settings.language))
        ctx = HandlerContext(
            session=session,
            settings=settings,
            now=now,
            event=event,
            organisation=organisation,
            member=member,
            unit=unit,
            language=language,
            steps=self.steps,
            thread_key=thread_key,
            checking=not keep,
        )
        handler = self.find(event, thread_key)
        if handler is None:
            if isinstance(event, Message):
                return [], {}  # ordinary channel chatter the bot is not part of
            log.warning("no handler for %s", _describe(event))
            ctx.private(t(language, "errors.unknown_action"))
            return ctx.effects, {}
        fields: dict[str, str] = {}
        savepoint = session.begin_nested()
        if not keep:
            sa_event.listen(session, "before_flush", _stop_at_first_insert)
        try:
            handler(ctx, event)
            for hook in self.after_hooks:
                hook(ctx)
            session.flush()
            if keep:
                savepoint.commit()
            else:
                savepoint.rollback()
                detached.discard(session)  # a check keeps nothing, anonymous contributions included
        except (CheckPassed, _CheckPassed):
            # The handler validated its fields (ctx.checked()) or got as far as storing something new:
            # every check before that passed. What it would store is not inserted, so a check never uses
            # up ids (PostgreSQL sequences are not rolled back, and people see case and meeting numbers).
            savepoint.rollback()
            detached.discard(session)
            ctx.effects.clear()
        except UserError as err:
            savepoint.rollback()
            detached.discard(session)
            log.info("user error %s for %s", err.key, _describe(event))
            ctx.effects.clear()
            ctx.private(err.reply if err.reply is not None else t(language, err.key, **err.values))
            if isinstance(err, FieldError):
                fields[err.field] = t(language, err.key, **err.values)
        except IntegrityError as exc:
            savepoint.rollback()
            detached.discard(session)
            ctx.effects.clear()
            key = duplicate_key(exc)
            if key is not None:
                # Two clicks racing for the same unique row: the first one won, the second changes nothing.
                log.info("duplicate ignored (%s) for %s", key, _describe(event))
                ctx.private(t(language, "errors.duplicate"))
            else:
                # NOT NULL, a foreign key, a CHECK: a bug, not a person's double click. The driver's message
                # is left out: it can quote the row, and so what a person wrote.
                log.error("integrity error %s at %s for %s", _error_code(exc), _origin(exc), _describe(event))
                ctx.private(t(language, "errors.internal"))
        except Exception:
            savepoint.rollback()
            detached.discard(session)
            log.exception("handler failed for %s", _describe(event))
            ctx.effects.clear()
            ctx.private(t(language, "errors.internal"))
        finally:
            if not keep:
                sa_event.remove(session, "before_flush", _stop_at_first_insert)
        return ctx.effects, fields


class _CheckPassed(Exception):
    """A form check reached the point where the handler stores new rows."""


def _stop_at_first_insert(session: Session, _context: object, _instances: object) -> None:
    if session.new:
        raise _CheckPassed


def _who_and_where_of(recorded: Any = None) -> Select[Any]:
    """Organisation, member, channel unit and membership in one query. With ``recorded`` (PostgreSQL's
    insert of a request's key, :func:`bot.chat.inbox.recorded_cte`) the same statement also remembers the
    request as handled and says whether it was new: it then starts from that, so a row comes back even
    when the organisation is not there yet."""
    where = and_(
        Organisation.platform == bindparam("platform"), Organisation.external_id == bindparam("workspace")
    )
    # The membership only needs to be known to exist: a column, not an object to build and track.
    columns: list[Any] = [Organisation, Member, Unit, Membership.member_id]
    if recorded is None:
        query = select(*columns)
    else:
        fresh = select(func.count()).select_from(recorded).scalar_subquery()
        start = select(fresh.label("fresh")).subquery("request")
        query = select(*columns, start.c.fresh).select_from(start).outerjoin(Organisation, where)
    query = (
        query.outerjoin(
            Member, and_(Member.organisation_id == Organisation.id, Member.user_id == bindparam("user_id"))
        )
        .outerjoin(
            Unit,
            and_(
                Unit.organisation_id == Organisation.id,
                Unit.channel_id == bindparam("channel"),
                bindparam("in_channel", type_=Boolean),
            ),
        )
        .outerjoin(Membership, and_(Membership.unit_id == Unit.id, Membership.member_id == Member.id))
    )
    return (query.where(where) if recorded is None else query).limit(1)


# Built once: constructing this statement for every event cost more than running it.
_WHO_AND_WHERE = _who_and_where_of()


@functools.cache
def _who_and_where_recording() -> Select[Any]:
    return _who_and_where_of(recorded_cte())


def who_and_where(
    session: Session,
    settings: Settings,
    event: Event,
    receipt: Receipt | None = None,
    now: datetime | None = None,
) -> tuple[Organisation, Member, Unit | None]:
    """The organisation, member and unit an event is about, created on first contact – for every handler,
    and for tools that act without one (the operator's role grant, the console's ``/som``).

    One query finds all four rows that usually exist already (organisation, member, the channel's unit and
    the membership); only what is missing is looked up or created one by one.

    With ``receipt`` (a request handled before its acknowledgement) its key is remembered as handled in
    the same transaction first – on PostgreSQL in the same statement – and :class:`Replayed` is raised
    when it was handled before."""
    place = event.place
    actor = event.actor
    parameters: dict[str, Any] = {
        "platform": place.platform,
        "workspace": place.workspace,
        "user_id": actor.user_id,
        "channel": place.channel,
        "in_channel": not place.is_direct,
    }
    statement = _WHO_AND_WHERE
    if receipt is not None:
        when = now or datetime.now(UTC)
        if session.get_bind().dialect.name == "postgresql":
            statement = _who_and_where_recording()
            parameters.update(receipt_parameters(receipt, when))
        elif not record_handled(session, receipt, when):
            raise Replayed
    row = session.execute(statement, parameters).first()
    if receipt is not None and statement is not _WHO_AND_WHERE:
        assert row is not None  # the query starts from the request, so it always has a row
        if not row.fresh:
            raise Replayed
        row = row if row[0] is not None else None
    if row is None:
        organisation = _organisation(session, place)
        member = _member(session, organisation, event)
        return organisation, member, _unit(session, organisation, member, place, settings)
    organisation, member, unit, is_member = row[:4]
    if member is None:
        # First contact: the member comes with its home unit in one insert.
        member = Member(
            organisation_id=organisation.id,
            user_id=actor.user_id,
            display_name=actor.display_name,
            home_unit_id=unit.id if unit is not None else None,
        )
        session.add(member)
        session.flush()
    elif actor.display_name and member.display_name != actor.display_name:
        member.display_name = actor.display_name
    if place.is_direct:
        return organisation, member, session.get(Unit, member.home_unit_id) if member.home_unit_id else None
    if unit is None:
        return organisation, member, _unit(session, organisation, member, place, settings)
    if member.home_unit_id != unit.id:
        member.home_unit_id = unit.id
    if is_member is None:
        session.add(Membership(unit_id=unit.id, member_id=member.id))
    return organisation, member, unit


def _error_code(exc: IntegrityError) -> str:
    return str(getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "sqlite_errorname", None) or "?")


def _origin(exc: BaseException) -> str:
    """Where our code raised it: file and line of the innermost frame outside the router and installed
    packages (SQLAlchemy, the standard library), for the log."""
    ours = [
        frame
        for frame in traceback.extract_tb(exc.__traceback__)
        if frame.filename.startswith(_PROJECT)
        and "site-packages" not in frame.filename
        and frame.filename != __file__
    ]
    return f"{'/'.join(Path(ours[-1].filename).parts[-2:])}:{ours[-1].lineno}" if ours else "?"


def _describe(event: Event) -> str:
    """Context for log lines: kind, place and the handler name, never the free text people wrote."""
    where = f"{event.place.platform}/{event.place.workspace}/{event.place.channel}"
    match event:
        case Command(name=name):
            return f"command {name!r} in {where}"
        case Action(action_id=action_id):
            return f"action {action_id!r} in {where}"
        case Submission(form_id=form_id):
            return f"form {form_id!r} in {where}"
    return f"message in {where}"


def _organisation(session: Session, place: Place) -> Organisation:
    org = session.scalar(
        select(Organisation).where(
            Organisation.platform == place.platform, Organisation.external_id == place.workspace
        )
    )
    if org is None:
        org = Organisation(platform=place.platform, external_id=place.workspace)
        session.add(org)
        session.flush()
    return org


def _member(session: Session, org: Organisation, event: Event) -> Member:
    actor = event.actor
    member = session.scalar(
        select(Member).where(Member.organisation_id == org.id, Member.user_id == actor.user_id)
    )
    if member is None:
        member = Member(organisation_id=org.id, user_id=actor.user_id, display_name=actor.display_name)
        session.add(member)
        session.flush()
    elif actor.display_name and member.display_name != actor.display_name:
        member.display_name = actor.display_name
    return member


def learn_roster(
    session: Session, settings: Settings, place: Place, people: list[tuple[str, str]], now: datetime
) -> int:
    """The members of the team the bot was added to (Teams' roster): each becomes a member of the unit of
    ``place``'s channel, so their first direct message to the bot finds their kindergarten (issue 13: no
    more "write in the channel first"). Kept per person: the platform's user id and display name – what
    a message from them would store anyway – and nothing else the roster holds (no e-mail, no directory
    id). A person's unit for direct messages is set only when they have none. Returns how many people
    were new to the unit."""
    org = _organisation(session, place)
    unit = _channel_unit(session, org, place.channel, settings)
    added = 0
    for user_id, name in people:
        member = session.scalar(
            select(Member).where(Member.organisation_id == org.id, Member.user_id == user_id)
        )
        if member is None:
            member = Member(organisation_id=org.id, user_id=user_id, display_name=name, created_at=now)
            session.add(member)
            session.flush()
        if member.home_unit_id is None:
            member.home_unit_id = unit.id
        if session.get(Membership, (unit.id, member.id)) is None:
            session.add(Membership(unit_id=unit.id, member_id=member.id, joined_at=now))
            added += 1
    session.flush()
    return added


def _channel_unit(session: Session, org: Organisation, channel: str, settings: Settings) -> Unit:
    unit = session.scalar(select(Unit).where(Unit.organisation_id == org.id, Unit.channel_id == channel))
    if unit is None:
        unit = Unit(
            organisation_id=org.id,
            channel_id=channel,
            name=channel,
            language=settings.language,
            timezone=settings.timezone,
        )
        session.add(unit)
        session.flush()
    return unit


def _unit(
    session: Session, org: Organisation, member: Member, place: Place, settings: Settings
) -> Unit | None:
    if place.is_direct:
        return session.get(Unit, member.home_unit_id) if member.home_unit_id else None
    unit = _channel_unit(session, org, place.channel, settings)
    if member.home_unit_id != unit.id:
        member.home_unit_id = unit.id
    if session.get(Membership, (unit.id, member.id)) is None:
        session.add(Membership(unit_id=unit.id, member_id=member.id))
    return unit


def _thread_key(session: Session, place: Place) -> str | None:
    if place.thread is None:
        return None
    return session.scalar(
        select(PostedMessage.key).where(
            PostedMessage.platform == place.platform,
            PostedMessage.workspace == place.workspace,
            PostedMessage.message_id == place.thread,
        )
    )
