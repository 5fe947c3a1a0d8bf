"""HØRA: Hensikt (why we meet), Ønsket Resultat (what we leave with), Agenda (items with minutes each).

A meeting's agenda is typed one item per line, e.g. ``Info: Nytt vaktsystem (10)``; the kind marks an
item as information (referatsak, orientering), discussion (drøfting), idea round (idémyldring, no
criticism), decision (beslutningssak) or "eventuelt"; an item may also have no kind, and the minutes may
be left out. The posted agenda keeps the order people wrote – they know why they put "Eventuelt" last – with
a legend of the kinds used, and warns when the minutes add up to more than the meeting.

An item may say why it is there and what we want with it ("hvorfor og hva vil vi"), after a ``|``:
``Beslutning: Ny vaktliste (20) | alle må vite hvem som gjør hva, vi vil ha én liste``.

A meeting has a kind: personalmøte (the default), ledermøte, HMS-gruppe, or the trio's own meeting
(partsmøte: leder, verneombud and tillitsvalgt), which only the trio sees and which may hold parties-only
cases.

After the meeting, :func:`due_meeting_followups` (run by the scheduler) asks the organiser whether the
desired result was reached; :func:`record_result` keeps the answer.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import cast

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.chat import delivery
from bot.chat.context import UserError
from bot.chat.model import Button, Buttons, Direct, Effect, Header, Note, Platform, Reply, Text
from bot.i18n import Translator, normalise_language
from bot.storage.models import Member, Organisation, Unit
from bot.toolbox.models_plan import AgendaItem, Meeting
from bot.toolbox.planning import show_moment

KINDS = ("information", "discussion", "idea", "decision", "other")
# Meeting kinds; "trio" is private to leder, verneombud and tillitsvalgt (bot/toolbox/access.py).
MEETING_KINDS = ("staff", "leaders", "hms", "trio")
TRIO = "trio"
MAX_WHY = 300
NO_KIND = "none"
RESULTS = ("yes", "partly", "no")
MAX_ITEMS = 30
MAX_TITLE = 300
MAX_MINUTES = 480  # a whole planning day; more is a typo


def _fold(word: str) -> str:
    """Lower case without accents, so "Idé", "ide" and "IDÈ" are one word (æ, ø stay themselves)."""
    decomposed = unicodedata.normalize("NFKD", word.strip().lower())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


_KIND_WORDS = {
    _fold(word): kind
    for kind, words in {
        "information": "info informasjon information orientering orienteringssak orienteringar "
        "orienteringer referat referatsak referatsaker melding o i",
        "discussion": "drøfting drøftingssak drøftingar drøftinger diskusjon diskusjonssak discussion "
        "discuss d",
        "idea": "ide ideer idear idea ideas iderunde idemyldring idedugnad brainstorm idérunde runde",
        "decision": "beslutning beslutningssak vedtak vedtakssak avgjerd avgjørelse decision decide b",
        "other": "eventuelt evt aob eventuelle",
    }.items()
    for word in words.split()
}
_MEETING_WORDS = {
    _fold(word): kind
    for kind, words in {
        "staff": "personalmøte personalmøter personalmote personal staff",
        "leaders": "ledermøte ledermote leiarmøte leiarmote ledergruppe leiargruppe ledergruppemøte leaders",
        "hms": "hms hms-gruppe hmsgruppe hms-møte hmsmøte amu safety",
        "trio": "trio partsmøte partsmote partene partane parter trekanten trekant",
    }.items()
    for word in words.split()
}


def meeting_kind(word: str) -> str | None:
    """``"ledermøte"`` → ``"leaders"``; None for a word that names no meeting kind."""
    return _MEETING_WORDS.get(_fold(word))


_BULLET = re.compile(r"^\s*(?:[-*•·]|\d{1,2}[.)])\s*")
_KIND = re.compile(r"^([^\W\d_][\w\-éèÉ]*)\s*(?::|\s[-–]\s)\s*(.*)$")
_MINUTES = re.compile(
    r"(?:^|\s|\()\(?\s*(\d{1,4})\s*(?:min(?:utt(?:ar|er)?|utes?)?|m)?\.?\s*\)?\s*$", re.IGNORECASE
)


@dataclass(frozen=True)
class ParsedItem:
    kind: str
    title: str
    minutes: int
    why: str = ""


def agenda_safe(text: str, limit: int = 80) -> str:
    """``text`` safe to stand in an agenda line: ";" would split the item and "(N)" be read as minutes."""
    cleaned = text.replace(";", ",").replace("(", " ").replace(")", " ")
    return re.sub(r"\s+", " ", cleaned).replace(" ,", ",").strip()[:limit]


def parse_agenda(text: str) -> list[ParsedItem]:
    """Agenda items, one per line (or separated by ";", which a one-line chat field needs).

    Raises :class:`UserError` naming the line that could not be read and the expected form.
    """
    lines = [part.strip() for part in re.split(r"[\n;]", text)]
    lines = [line for line in lines if line]
    if not lines:
        raise UserError("hora.agenda_empty")
    if len(lines) > MAX_ITEMS:
        raise UserError("hora.agenda_too_many", count=len(lines), limit=MAX_ITEMS)
    items = []
    for number, line in enumerate(lines, start=1):
        shown = line[:60]
        body, _, why = _BULLET.sub("", line).partition("|")
        body, why = body.strip(), why.strip()
        if len(why) > MAX_WHY:
            raise UserError("errors.too_long", limit=MAX_WHY, length=len(why))
        minutes = _MINUTES.search(body)
        value = int(minutes[1]) if minutes else 0
        bare = (body[: minutes.start()] if minutes else body).strip(" -–,:(")
        m = _KIND.match(body)
        kind = _KIND_WORDS.get(_fold(m[1])) if m else None
        if kind is not None and m is not None:
            rest = m[2].strip()
            found = _MINUTES.search(rest)
            title = (rest[: found.start()] if found else rest).strip(" -–,:(")
        elif _KIND_WORDS.get(_fold(bare)) == "other":
            kind, title = "other", bare  # "Eventuelt" is its own title
        else:
            kind, title = NO_KIND, bare  # no kind given: an item all the same
        if not title:
            raise UserError("hora.agenda_no_title", number=number, line=shown)
        if minutes is not None and not 1 <= value <= MAX_MINUTES:
            raise UserError("hora.agenda_bad_minutes", number=number, line=shown, limit=MAX_MINUTES)
        if len(title) > MAX_TITLE:
            raise UserError("errors.too_long", limit=MAX_TITLE, length=len(title))
        items.append(ParsedItem(kind, title, value, why))
    return items


def agenda_items(session: Session, meeting_id: int) -> list[AgendaItem]:
    return list(
        session.scalars(
            select(AgendaItem).where(AgendaItem.meeting_id == meeting_id).order_by(AgendaItem.position)
        )
    )


def head_key(meeting_id: int) -> str:
    return f"meeting:{meeting_id}:head"


def create_meeting(
    session: Session,
    *,
    unit: Unit,
    organiser: Member,
    purpose: str,
    desired_result: str,
    items: list[ParsedItem],
    starts_at: datetime,
    length_minutes: int,
    case_id: int | None,
    now: datetime,
    kind: str = "staff",
) -> tuple[Meeting, bool]:
    """Store a meeting; returns ``(meeting, created)``. The same organiser sending the same purpose for the
    same start again (a double-submitted form) gets the meeting stored the first time."""
    existing = session.scalar(
        select(Meeting).where(
            Meeting.unit_id == unit.id,
            Meeting.organiser_id == organiser.id,
            Meeting.starts_at == starts_at,
            Meeting.purpose == purpose,
        )
    )
    if existing is not None:
        return existing, False
    if kind not in MEETING_KINDS:
        raise ValueError(f"unknown meeting kind {kind!r}")
    meeting = Meeting(
        unit_id=unit.id,
        kind=kind,
        organiser_id=organiser.id,
        case_id=case_id,
        purpose=purpose,
        desired_result=desired_result,
        starts_at=starts_at,
        length_minutes=length_minutes,
        ends_at=starts_at + timedelta(minutes=length_minutes),
        created_at=now,
    )
    session.add(meeting)
    session.flush()
    for position, item in enumerate(items, start=1):
        session.add(
            AgendaItem(
                meeting_id=meeting.id,
                position=position,
                kind=item.kind,
                title=item.title,
                minutes=item.minutes,
                why=item.why,
            )
        )
    session.flush()
    return meeting, True


def overrun(session: Session, meeting: Meeting) -> int:
    """Minutes the agenda runs over the meeting's length (0 when it fits)."""
    total = sum(item.minutes for item in agenda_items(session, meeting.id))
    return max(0, total - meeting.length_minutes)


def render_meeting(
    session: Session, tr: Translator, meeting: Meeting, timezone: str, case_line: str | None = None
) -> Reply:
    items = agenda_items(session, meeting.id)
    total = sum(item.minutes for item in items)
    when = show_moment(tr, meeting.starts_at, timezone)
    title = tr("hora.title", when=when, minutes=meeting.length_minutes, kind=kind_name(tr, meeting.kind))
    blocks: list[Header | Text | Note] = [
        Header(title),
        Text(
            tr("hora.purpose_line", text=meeting.purpose)
            + "\n"
            + tr("hora.result_line", text=meeting.desired_result)
        ),
    ]
    if case_line:
        blocks.append(Text(case_line))
    lines = [tr("hora.agenda_heading")]
    for number, item in enumerate(items, start=1):
        mark = tr(f"hora.mark.{item.kind}") if item.kind in KINDS else ""
        key = "hora.item" if item.minutes else "hora.item_open"
        line = tr(key, number=number, mark=mark, title=item.title, minutes=item.minutes)
        lines.append(re.sub(r" {2,}", " ", line))
        if item.why:
            lines.append(tr("hora.why_line", text=item.why))
    legend = [
        tr(f"hora.group.{kind}", minutes=sum(i.minutes for i in items if i.kind == kind))
        for kind in KINDS
        if any(i.kind == kind for i in items)
    ]
    if legend:
        lines.extend(["", *legend])
    blocks.append(Text("\n".join(lines)))
    notes = [tr("hora.total", total=total, length=meeting.length_minutes)]
    if total > meeting.length_minutes:
        notes.append(tr("hora.over_time", over=total - meeting.length_minutes))
    # A trio meeting's agenda is a direct message: there is no thread to write side issues in.
    notes.append(tr("hora.parking_trio" if meeting.kind == TRIO else "hora.parking"))
    if meeting.result is not None:
        notes.append(tr("hora.result_shown", result=tr(f"hora.results.{meeting.result}")))
        if meeting.result_comment:
            notes.append(tr("hora.result_comment", text=meeting.result_comment))
    if meeting.kind == TRIO:
        notes.append(tr("hora.trio_note"))
    blocks.append(Note("\n".join(notes)))
    return Reply(fallback=title, blocks=tuple(blocks))


def kind_name(tr: Translator, kind: str) -> str:
    return tr(f"hora.kinds.{kind if kind in MEETING_KINDS else 'staff'}")


def parse_result(word: str) -> str | None:
    return {
        "ja": "yes", "yes": "yes", "j": "yes", "delvis": "partly", "partly": "partly", "litt": "partly",
        "nei": "no", "no": "no", "n": "no",
    }.get(_fold(word).strip(".,!"))  # fmt: skip


def record_result(meeting: Meeting, member: Member, result: str, comment: str, now: datetime) -> bool:
    """Keep the organiser's answer; ``False`` when exactly this answer was already stored."""
    if meeting.organiser_id is not None and meeting.organiser_id != member.id:
        raise UserError("hora.result_not_organiser")
    if now < meeting.starts_at:
        raise UserError("hora.result_too_early")
    if meeting.result == result and (not comment or comment == meeting.result_comment):
        return False
    meeting.result = result
    if comment:
        meeting.result_comment = comment
    meeting.answered_at = now
    return True


def followup_reply(tr: Translator, meeting: Meeting, timezone: str) -> Reply:
    when = show_moment(tr, meeting.starts_at, timezone)
    text = tr("hora.followup", when=when, result=meeting.desired_result, id=meeting.id)
    buttons = tuple(
        Button(
            tr(f"hora.results.{r}"),
            "hora.result",
            f"{meeting.id}:{r}",
            "primary" if r == "yes" else "default",
        )
        for r in RESULTS
    )
    return Reply(
        fallback=text, blocks=(Text(text), Buttons(buttons), Note(tr("hora.followup_hint", id=meeting.id)))
    )


def due_meeting_followups(session: Session, now: datetime) -> list[int]:
    """Ask the organiser of every meeting that has ended whether its desired result was reached.

    For the scheduler: call inside a transaction, then flush delivery. The questions are put in the
    outbox here, and each meeting is asked once (``followup_asked_at``; rows are locked on PostgreSQL so
    two callers never ask twice). Returns the ids of the meetings asked about.
    """
    meetings = session.scalars(
        select(Meeting)
        .where(Meeting.ends_at <= now, Meeting.followup_asked_at.is_(None), Meeting.result.is_(None))
        .order_by(Meeting.ends_at, Meeting.id)
        .with_for_update(skip_locked=True)
    ).all()
    asked = []
    for meeting in meetings:
        meeting.followup_asked_at = now
        organiser = session.get(Member, meeting.organiser_id) if meeting.organiser_id else None
        unit = session.get(Unit, meeting.unit_id)
        if organiser is None or unit is None:
            continue  # nobody to ask; marked as asked so it is not looked at again
        org = session.get(Organisation, unit.organisation_id)
        assert org is not None
        tr = Translator(normalise_language(organiser.language or unit.language))
        platform = cast(Platform, org.platform)
        reply = followup_reply(tr, meeting, unit.timezone)
        effects: list[Effect] = [Direct(platform, org.external_id, organiser.user_id, reply)]
        delivery.enqueue(session, effects, now, org.platform, org.external_id)
        asked.append(meeting.id)
    return asked
