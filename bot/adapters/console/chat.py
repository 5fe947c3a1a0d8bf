"""The local console chat (``partsbot chat``): talk to Partsbot as several colleagues of one kindergarten.

Everything goes through the same router, database and delivery as Slack and Teams; only the transport is
a terminal. It reads lines from any text stream, so scripts and tests drive it through piped stdin.

Console words (not sent to the bot): ``/som <navn> [rolle]`` switch person, ``/tråd <nr>`` go into a
thread, ``/kanal`` back to the channel, ``/dm`` a direct chat with the bot, a number (or ``/velg <nr>``)
presses a numbered button, ``/hvem`` lists people, ``/?`` explains, ``/avslutt`` quits. Everything else
starting with ``/parts`` is a command; any other line is a message where you are.
"""

from __future__ import annotations

import asyncio
import json
import re
import unicodedata
from pathlib import Path
from typing import TextIO

from sqlalchemy import select

from bot.adapters.console.messenger import WORKSPACE, ConsoleMessenger, PendingForm, direct_place
from bot.adapters.console.render import render
from bot.chat.model import (
    Action,
    Actor,
    Command,
    Event,
    File,
    Message,
    Place,
    Reply,
    Submission,
)
from bot.core import Partsbot
from bot.i18n import normalise_language, t
from bot.roles import parse_role, roles_of
from bot.storage.models import KeyValue, Member, Organisation, PostedMessage, Unit
from bot.toolbox.models import Case

YES = ("ja", "j", "yes", "y")
NO = ("nei", "n", "no")
CHANNEL = "personalet"
MAX_OPTIONS = 500
# What a numbered option keeps: the button, and the place of the message it is on.
OPTION_FIELDS = ("action_id", "value", "channel", "thread", "direct")


def slug(name: str) -> str:
    """A person's id from their name. Letters stay letters (æ, ø, å too), so "Ase" and "Åse", or "Bjørn"
    and "Bjrn", are different people; case and spacing do not matter."""
    cleaned = unicodedata.normalize("NFC", name).lower()
    return "u-" + (re.sub(r"[\W_]+", "-", cleaned).strip("-") or "anon")


class ConsoleChat:
    def __init__(
        self,
        bot: Partsbot,
        out: TextIO,
        *,
        unit_name: str = "Solsikken barnehage",
        channel: str = CHANNEL,
        echo_input: bool = False,
    ) -> None:
        self.bot = bot
        self.out = out
        self.unit_name = unit_name
        self.channel = channel
        self.echo_input = echo_input
        self.messenger = ConsoleMessenger(self)
        bot.add_messenger(self.messenger)
        self._language: str | None = None
        self.pending_form: PendingForm | None = None
        self.person = {"user_id": slug("Kari"), "name": "Kari"}
        self.thread: str | None = None
        self.direct = False
        self.options: dict[str, list[str]] = {}
        self.thread_roots: dict[str, str] = {}
        self.finished = False

    # Texts -----------------------------------------------------------------------------------------

    @property
    def language(self) -> str:
        """The language of the person typing now (their own choice, else the unit's), so the console's own
        words ("Svar på ett spørsmål per linje …") follow `/parts språk en` as the bot's answers do."""
        return self._language or self.bot.settings.language

    def _person_language(self) -> str | None:
        with self.bot.db.transaction() as session:
            org = session.scalar(
                select(Organisation).where(
                    Organisation.platform == "console", Organisation.external_id == WORKSPACE
                )
            )
            if org is None:
                return None
            member = session.scalar(
                select(Member).where(
                    Member.organisation_id == org.id, Member.user_id == self.person["user_id"]
                )
            )
            unit = session.scalar(
                select(Unit).where(Unit.organisation_id == org.id, Unit.channel_id == self.channel)
            )
            chosen = (member.language if member else None) or (unit.language if unit else None)
            return normalise_language(chosen) if chosen else None

    def say(self, key: str, **values: object) -> str:
        return t(self.language, f"console.{key}", **values)

    def write(self, line: str = "") -> None:
        self.out.write(line + "\n")
        self.out.flush()

    def show(self, heading: str, reply: Reply, place: Place, indent: str = "") -> None:
        """Print a message that is in ``place``; its buttons act there, wherever they are pressed from."""
        self.write(indent + heading)
        for line in render(reply, lambda action_id, value: self._number(action_id, value, place)):
            self.write(f"{indent}  {line}")
        for block in reply.blocks:
            if isinstance(block, File):
                self.write(f"{indent}  → {self._write_file(block)}")

    def _write_file(self, file: File) -> Path:
        """A file from the bot (a data export, the HMS record as a PDF) goes into ``partsbot-files`` in the
        current folder, readable by this user only."""
        folder = Path.cwd() / "partsbot-files"
        folder.mkdir(mode=0o700, exist_ok=True)
        path = folder / Path(file.name).name
        path.write_bytes(file.data)
        path.chmod(0o600)
        return path

    # State kept in the database, so a second start continues where the first stopped ------------

    def _load(self) -> None:
        with self.bot.db.transaction() as session:
            org = session.scalar(
                select(Organisation).where(
                    Organisation.platform == "console", Organisation.external_id == WORKSPACE
                )
            )
            if org is None:
                org = Organisation(platform="console", external_id=WORKSPACE, name=self.unit_name)
                session.add(org)
                session.flush()
            unit = session.scalar(
                select(Unit).where(Unit.organisation_id == org.id, Unit.channel_id == self.channel)
            )
            if unit is None:
                session.add(
                    Unit(
                        organisation_id=org.id,
                        channel_id=self.channel,
                        name=self.unit_name,
                        language=self.bot.settings.language,
                        timezone=self.bot.settings.timezone,
                    )
                )
            state = session.get(KeyValue, "console.state")
            if state is not None:
                data = json.loads(state.value)
                self.person = data.get("person", self.person)
                self.thread = data.get("thread")
                self.direct = bool(data.get("direct", False))
                # Options saved before they kept their message's place cannot be pressed safely: dropped.
                options = data.get("options", {})
                self.options = {n: o for n, o in options.items() if len(o) == len(OPTION_FIELDS)}
                self.thread_roots = data.get("thread_roots", {})

    def _save(self) -> None:
        data = json.dumps(
            {
                "person": self.person,
                "thread": self.thread,
                "direct": self.direct,
                "options": self.options,
                "thread_roots": self.thread_roots,
            }
        )
        with self.bot.db.transaction() as session:
            row = session.get(KeyValue, "console.state")
            if row is None:
                session.add(KeyValue(key="console.state", value=data))
            else:
                row.value = data

    def next_message_id(self) -> int:
        with self.bot.db.transaction() as session:
            row = session.get(KeyValue, "console.seq")
            if row is None:
                row = KeyValue(key="console.seq", value="0")
                session.add(row)
            row.value = str(int(row.value) + 1)
            return int(row.value)

    def _number(self, action_id: str, value: str, place: Place) -> int:
        number = max((int(n) for n in self.options), default=0) + 1
        self.options[str(number)] = [
            action_id,
            value,
            place.channel,
            place.thread or "",
            "1" if place.is_direct else "",
        ]
        if len(self.options) > MAX_OPTIONS:
            for old in sorted(self.options, key=int)[: len(self.options) - MAX_OPTIONS]:
                del self.options[old]
        return number

    def name_of(self, user_id: str) -> str:
        if user_id == self.person["user_id"]:
            return self.person["name"]
        with self.bot.db.transaction() as session:
            name = session.scalar(select(Member.display_name).where(Member.user_id == user_id))
        return name or user_id

    # Where and who ---------------------------------------------------------------------------------

    @property
    def place(self) -> Place:
        if self.direct:
            return direct_place(self.person["user_id"])
        return Place("console", WORKSPACE, self.channel, self.thread)

    @property
    def actor(self) -> Actor:
        # Whoever runs the console owns the local install (bot/grants.py treats it as the platform admin).
        return Actor(self.person["user_id"], self.person["name"], is_admin=True)

    def _roles_label(self) -> str:
        with self.bot.db.transaction() as session:
            member = session.scalar(select(Member).where(Member.user_id == self.person["user_id"]))
            unit = session.scalar(select(Unit).where(Unit.channel_id == self.channel))
            if member is None or unit is None:
                return ""
            held = roles_of(session, unit.id, member.id)
        return ", ".join(t(self.language, f"roles.names.{r}") for r in held)

    def prompt(self) -> str:
        where = "dm" if self.direct else (f"#{self.channel}" + (f" › #{self.thread}" if self.thread else ""))
        roles = self._roles_label()
        who = f"{self.person['name']} ({roles})" if roles else self.person["name"]
        return f"{who} @ {where} › "

    # Lines in --------------------------------------------------------------------------------------

    async def start(self) -> None:
        await asyncio.to_thread(self._load)
        self.write(self.say("welcome", unit=self.unit_name, channel=self.channel))
        self.write(self.say("you_are", name=self.person["name"]))

    async def handle_line(self, line: str) -> None:
        line = line.rstrip("\n")
        if self.echo_input:
            self.write(self.prompt() + line)
        await self._route(line.strip())
        await asyncio.to_thread(self._save)

    async def _route(self, text: str) -> None:
        if self.pending_form is not None:
            await self._form_answer(text)
        elif not text:
            return
        elif text.startswith("/parts") and (len(text) == 6 or text[6].isspace()):
            await self._command(text[6:].strip())
        elif text.startswith("/"):
            await self._console_word(text)
        elif text.isdigit() and await asyncio.to_thread(self.in_vote_thread):
            # In a voting thread a bare number is a vote for that option, not a press of button [n].
            await self.dispatch(Message(self.actor, self.place, text))
        elif text.isdigit() and text in self.options:
            await self._pick(text)
        else:
            await self.dispatch(Message(self.actor, self.place, text))

    async def dispatch(self, event: Event) -> None:
        await self.bot.handle(event)
        self._language = await asyncio.to_thread(self._person_language)

    async def _command(self, rest: str) -> None:
        name, _, args = rest.partition(" ")
        await self.dispatch(Command(self.actor, self.place, name.lower(), args.strip()))

    async def _pick(self, number: str) -> None:
        """Press a button where its message is: a direct message's button stays direct and a channel's acts
        in that channel (and thread), wherever the presser is typing now.

        Anyone may press any number, also on a message only someone else would see on a platform: the
        console is where the handlers' own checks (who may answer, undo, confirm) are tried out."""
        action_id, value, channel, thread, direct = self.options[number]
        place = Place("console", WORKSPACE, channel, thread or None, is_direct=bool(direct))
        await self.dispatch(Action(self.actor, place, action_id, value))

    async def _console_word(self, text: str) -> None:
        word, _, rest = text.partition(" ")
        word = word.lower()
        rest = rest.strip()
        if word in ("/som", "/as"):
            await self._become(rest)
        elif word in ("/tråd", "/trad", "/thread"):
            if not rest.lstrip("#").isdigit():
                self.write(self.say("thread_usage"))
                return
            number = rest.lstrip("#")
            self.thread, self.direct = self.thread_roots.get(number, number), False
            self.write(self.say("in_thread", thread=self.thread))
        elif word in ("/kanal", "/channel"):
            # "/kanal blåbær": another channel, i.e. another kindergarten (or the exchange channel) of the
            # same local workspace; alone: back to the channel you were in.
            if rest:
                self.channel = rest.lstrip("#").split()[0][:80]
            self.thread, self.direct = None, False
            self.write(self.say("in_channel", channel=self.channel))
        elif word == "/dm":
            self.thread, self.direct = None, True
            self.write(self.say("in_dm"))
        elif word in ("/velg", "/vel", "/pick"):
            if rest in self.options:
                await self._pick(rest)
            else:
                self.write(self.say("no_option", number=rest))
        elif word in ("/hvem", "/kven", "/who"):
            await self._who()
        elif word in ("/avslutt", "/quit", "/exit"):
            self.finished = True
            self.write(self.say("bye"))
        elif word in ("/?", "/konsoll", "/console"):
            self.write(self.say("help"))
        else:
            self.write(self.say("unknown_word", word=word))

    async def _become(self, rest: str) -> None:
        words = rest.split()
        if not words:
            self.write(self.say("as_usage"))
            return
        role_words = [w for w in words[1:] if parse_role(w)]
        name_words = [words[0], *(w for w in words[1:] if not parse_role(w))]
        name = " ".join(name_words)[:80]
        self.person = {"user_id": slug(name), "name": name}
        self._language = await asyncio.to_thread(self._person_language)
        self.write(self.say("you_are", name=name))
        if role_words:
            # A local test tool: the console's owner is the operator, who may grant roles directly
            # (announced and kept in the audit trail like `partsbot roles grant`).
            # (`/parts rolle tildel` answers only on the console platform; see handlers/role_grants.py).
            place = self.place.channel_only if not self.direct else self.place
            await self.dispatch(Command(self.actor, place, "rolle", "tildel " + " ".join(role_words)))

    async def _who(self) -> None:
        def people() -> list[str]:
            with self.bot.db.transaction() as session:
                unit = session.scalar(select(Unit).where(Unit.channel_id == self.channel))
                members = session.scalars(select(Member).order_by(Member.display_name)).all()
                out = []
                for m in members:
                    held = roles_of(session, unit.id, m.id) if unit else []
                    names = ", ".join(t(self.language, f"roles.names.{r}") for r in held) or "–"
                    out.append(f"• {m.display_name} ({names})")
                return out

        for line in await asyncio.to_thread(people) or [self.say("nobody")]:
            self.write(line)

    # Forms: one question a line --------------------------------------------------------------------

    def ask_field(self) -> None:
        pending = self.pending_form
        if pending is None or pending.field is None:
            return
        f = pending.field
        optional = f" ({self.say('optional')})" if f.optional else ""
        if f.kind == "checkbox":
            optional += f" ({self.say('yes_no')})"
        self.write(f"» {f.label}{optional}" + (f" – {f.hint}" if f.hint else ""))
        if f.kind == "select":
            for i, option in enumerate(f.options, start=1):
                self.write(f"   [{i}] {option.label}")
        elif f.initial:
            # Slack and Teams show a prefilled field as it is; here an empty line keeps the suggestion.
            self.write("   " + self.say("suggested"))
            for line in f.initial.splitlines():
                self.write(f"   │ {line}")

    def in_vote_thread(self) -> bool:
        """Whether we are in the thread of a vote, or of a case in its voting step."""
        if self.thread is None or self.direct:
            return False
        with self.bot.db.transaction() as session:
            key = session.scalar(
                select(PostedMessage.key).where(
                    PostedMessage.platform == "console",
                    PostedMessage.workspace == WORKSPACE,
                    PostedMessage.message_id == self.thread,
                )
            )
            if key is None:
                return False
            area, _, rest = key.partition(":")
            number = rest.split(":", 1)[0]
            if area == "vote":
                return True
            if area == "case" and number.isdigit():
                case = session.get(Case, int(number))
                return case is not None and case.step == "vote"
            return False

    async def _form_answer(self, text: str) -> None:
        pending = self.pending_form
        assert pending is not None
        if text.lower() in ("/avbryt", "/cancel", "/avbrot"):
            self.pending_form = None
            self.write(self.say("form_cancelled"))
            return
        if pending.leaving is not None:
            line, pending.leaving = pending.leaving, None
            if text.lower() in YES:
                self.pending_form = None
                self.write(self.say("form_cancelled"))
                await self._route(line)
                return
            if text.lower() in NO or not text:
                self.ask_field()
                return
        elif text.startswith("/"):
            # A command typed while a form is open is not an answer: ask before dropping the form.
            pending.leaving = text
            self.write(self.say("leave_form", title=pending.form.title, line=text))
            return
        current = pending.field
        assert current is not None
        value = text
        if current.kind == "select":
            # The number shown, or what the option says ("Per", "enig med merknad"), as on a platform's list.
            named = [o.value for o in current.options if o.label.casefold() == text.casefold()]
            if text.isdigit() and 1 <= int(text) <= len(current.options):
                value = current.options[int(text) - 1].value
            elif len(named) == 1:
                value = named[0]
            elif text and text not in {o.value for o in current.options}:
                self.write(self.say("pick_number", count=len(current.options)))
                return
        if not value and current.initial and current.kind != "select":
            value = current.initial
        if not value and not current.optional:
            self.write(self.say("required"))
            return
        pending.values[current.name] = value
        # Each answer is checked as it is given (by the form's own handler, rolled back), so a wrong date
        # is asked again at once and nothing typed before it is lost.
        actor = Actor(pending.user_id, self.name_of(pending.user_id))
        errors = await self.bot.check(
            Submission(actor, pending.place, pending.form.form_id, dict(pending.values), pending.form.context)
        )
        wrong = [f for f in pending.form.fields if f.name in errors and f.name in pending.values]
        if wrong:
            for f in wrong:
                del pending.values[f.name]
            self.write(errors[wrong[0].name])
            self.ask_field()
            return
        if pending.field is not None:
            self.ask_field()
            return
        self.pending_form = None
        await self.dispatch(
            Submission(actor, pending.place, pending.form.form_id, pending.values, pending.form.context)
        )

    async def run(self, stream: TextIO, interactive: bool = False) -> None:
        await self.start()
        while not self.finished:
            if interactive:
                self.out.write(self.prompt())
                self.out.flush()
            line = await asyncio.to_thread(stream.readline)
            if not line:
                break
            await self.handle_line(line)
