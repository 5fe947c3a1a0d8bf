"""What a handler gets: the event, who and where, the database session, the time, texts, and a way to
ask for effects. Handlers never talk to a platform; they append effects, which the delivery layer sends
after the transaction commits.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from bot.chat import detached
from bot.chat.model import (
    Actor,
    Direct,
    Effect,
    Event,
    Form,
    OpenForm,
    Place,
    Post,
    Private,
    Reply,
    Update,
)
from bot.chat.steps import StepHooks
from bot.i18n import Translator, normalise_language
from bot.roles import roles_of
from bot.settings import Settings
from bot.storage.models import PARTY_ROLES, Member, Organisation, Unit

# Longest free text a person may send in one answer. Long enough for a careful paragraph, short enough to
# fit a Slack section (3000 characters) with room for the author's name.
MAX_TEXT = 2000


class UserError(Exception):
    """A mistake a person made (wrong command, missing role, text too long): answered privately with the
    prompt ``key``, and nothing the handler wrote is kept."""

    def __init__(self, key: str, **values: Any) -> None:
        super().__init__(key)
        self.key = key
        self.values = values
        # A whole answer instead of the prompt ``key`` (see :class:`Ask`).
        self.reply: Reply | None = None


class Ask(UserError):
    """Not a mistake: the bot needs a choice before it can act ("Gjelder det sak #2 eller en ny?"). The
    person gets ``reply`` (with buttons) privately, and nothing the handler wrote is kept."""

    def __init__(self, reply: Reply) -> None:
        super().__init__("errors.ask")
        self.reply = reply


class CheckPassed(Exception):
    """Raised by :meth:`HandlerContext.checked` in a dry run: the fields are fine and nothing need be written
    (so a check does not use up ids, e.g. case or meeting numbers, on PostgreSQL)."""


class FieldError(UserError):
    """A mistake in one field of a submitted form. Platforms show it at that field and keep what was typed
    (Slack: ``response_action: errors``; console: the question is asked again at once)."""

    def __init__(self, field_name: str, key: str, **values: Any) -> None:
        super().__init__(key, **values)
        self.field = field_name


@contextmanager
def in_field(name: str) -> Iterator[None]:
    """Any :class:`UserError` raised inside is about form field ``name``."""
    try:
        yield
    except FieldError:
        raise
    except UserError as err:
        raise FieldError(name, err.key, **err.values) from err


@dataclass
class HandlerContext:
    session: Session
    settings: Settings
    now: datetime
    event: Event
    organisation: Organisation
    member: Member
    unit: Unit | None
    language: str
    # The step hooks of the router that built this context (see bot.chat.steps).
    steps: StepHooks
    thread_key: str | None = None
    effects: list[Effect] = field(default_factory=list)
    # True while a form is only being checked (Router.check): the handler's writes are rolled back.
    checking: bool = False

    def checked(self) -> None:
        """Call when a form's fields are validated, before it writes: a dry run stops here."""
        if self.checking:
            raise CheckPassed

    # Who and where ---------------------------------------------------------------------------------

    @property
    def actor(self) -> Actor:
        return self.event.actor

    @property
    def place(self) -> Place:
        return self.event.place

    @property
    def t(self) -> Translator:
        return Translator(self.language)

    def require_unit(self) -> Unit:
        """The kindergarten this event is about; a direct message before any channel use has none."""
        if self.unit is None:
            raise UserError("errors.no_unit")
        return self.unit

    def roles_of(self, member: Member | None = None) -> set[str]:
        """Granted roles in the event's unit (:func:`bot.roles.roles_of`). Checks about data of another
        unit go through :mod:`bot.toolbox.access` with that data's unit."""
        if self.unit is None:
            return set()
        return set(roles_of(self.session, self.unit.id, (member or self.member).id))

    @property
    def roles(self) -> set[str]:
        return self.roles_of()

    @property
    def is_party(self) -> bool:
        """Leader or an employees' representative in the event's unit."""
        return bool(self.roles & set(PARTY_ROLES))

    def language_of(self, member: Member) -> str:
        return normalise_language(member.language or (self.unit.language if self.unit else None))

    @staticmethod
    def text(text: str, limit: int = MAX_TEXT) -> str:
        """Validate free text from a person: not empty, not longer than ``limit``."""
        cleaned = text.strip()
        if not cleaned:
            raise UserError("errors.empty_text")
        if len(cleaned) > limit:
            raise UserError("errors.too_long", limit=limit, length=len(cleaned))
        return cleaned

    # Effects ---------------------------------------------------------------------------------------

    @staticmethod
    def _reply(reply: Reply | str) -> Reply:
        return Reply.text(reply) if isinstance(reply, str) else reply

    def reply(self, reply: Reply | str) -> None:
        """Answer where the event happened (in its thread, if it came from one)."""
        self.effects.append(Post(self.place, self._reply(reply)))

    def post(
        self,
        reply: Reply | str,
        *,
        key: str | None = None,
        thread_key: str | None = None,
        place: Place | None = None,
    ) -> None:
        """Post in the unit's channel (or ``place``); ``key`` names the message, ``thread_key`` puts it in
        the thread of an earlier message."""
        target = place or self.channel_place()
        self.effects.append(Post(target.channel_only, self._reply(reply), key=key, thread_key=thread_key))

    def update(self, key: str, reply: Reply | str) -> None:
        self.effects.append(Update(key, self._reply(reply)))

    def private(self, reply: Reply | str, user_id: str | None = None) -> None:
        """A message only one person sees (the actor by default), where the event happened."""
        self.effects.append(Private(self.place, user_id or self.actor.user_id, self._reply(reply)))

    def direct(self, member: Member, reply: Reply | str) -> None:
        self.effects.append(
            Direct(self.place.platform, self.place.workspace, member.user_id, self._reply(reply))
        )

    def open_form(self, form: Form) -> None:
        trigger = getattr(self.event, "trigger_id", None)
        self.effects.append(OpenForm(self.place, self.actor.user_id, form, trigger))

    def detach(
        self,
        name: str,
        write: Callable[[HandlerContext], None],
        undo: Callable[[HandlerContext], None] | None = None,
    ) -> None:
        """Run ``write`` after this event's transaction commits, in a transaction of its own: for anonymous
        contributions, which must not share a transaction id with anything that names the person (see
        :mod:`bot.chat.detached`). Dropped if this handler fails."""
        detached.pending(self.session).append(detached.DetachedWrite(name, self, write, undo))

    def channel_place(self) -> Place:
        """The unit's channel: where cases and rounds live even when the command came by direct message."""
        if self.unit is None or not self.place.is_direct:
            return self.place.channel_only
        return Place(self.place.platform, self.place.workspace, self.unit.channel_id)
