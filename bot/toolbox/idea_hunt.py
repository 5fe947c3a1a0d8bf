"""Step 3, "Idéjakt": as many ideas as possible before a deadline, each allowed to build on another.

The rule is improvisation's "Ja, og …": accept and build, no criticism yet. ``ja, og #3 …`` – also "Ja,
og 3", "ja og nr. 3", "JA! Og #3", "ja, og idé 3" – (or the "build on" button) links an idea to the one it
builds on and the bot shows the chain (#5 ← #3 ← #1), here and on the ballot, the result and the plan
(:func:`ballot_label`). When it is unclear what an idea builds on ("ja, og så …" with no number, or a
number that is no idea), the idea is kept unlinked and its author is asked "Bygger du på #4?" with a
button. A reply that blocks ("nei, men …", "men …") is still kept – the issue asks for a reminder, not a
refusal – its author gets a friendly private reminder of the rule, and it stays off the ballot until
its author rephrases it (the reminder's button).

Ideas typed before the hunt ("Idé: …", or a proposal while the define step waits for nothing) are kept
with their numbers (:func:`keep_for_later`) and listed when the hunt opens.

The hunt is time-boxed: the owner (or the trio) sets a deadline, by default the end of the second working
day after the hunt starts (Norwegian holidays, weekends and the summer closure do not count).
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, or_, select

from bot.chat.context import HandlerContext, UserError
from bot.chat.model import Block, Button, Buttons, Message, Note, Reply, Text
from bot.chat.steps import StepHooks
from bot.dates import parse as dates
from bot.dates.calendar import local_at, next_working_day
from bot.i18n import plural
from bot.storage.models import Member, Unit
from bot.toolbox import cases, entries
from bot.toolbox.models import Case, Idea
from bot.toolbox.planning import show_deadline

DEFAULT_WORKING_DAYS = 2
HEAD_IDEAS = 15
# "Ja, og #2", "ja, og nr. 2", "JA! Og 2", "ja og idé 2", "yes, and #2" (the number as group 2; group 1 says
# whether it was marked with "#", "nr." or "idé", which makes it certain).
_BUILD = re.compile(
    r"^\s*(?:ja+|jo|jepp|yes)\s*[,!.:]*\s*(?:og|and)\b\s*[,:]?\s*"
    r"(#\s*|(?:nr|nummer|no|number|idé|ide|idea)\.?\s*#?\s*)?(\d+)\b\s*[:,.\-–—]?\s*",
    re.I,
)
# "Ja, og …" with no number: building on something, but on what?
_BUILD_UNNUMBERED = re.compile(r"^\s*(?:ja+|jo|jepp|yes)\s*[,!.:]*\s*(?:og|and)\b\s*[,:]?\s*", re.I)
_BLOCKING = re.compile(r"^\s*(?:nei\s*[,!.]?\s*men|no\s*[,!.]?\s*but|men|but)\b", re.I)


# --------------------------------------------------------------------------------------------------
# Deadlines
# --------------------------------------------------------------------------------------------------


def _zone(ctx: HandlerContext, case: Case) -> ZoneInfo:
    unit = ctx.session.get(Unit, case.unit_id)
    return ZoneInfo(unit.timezone if unit else ctx.settings.timezone)


def end_of(day: date, zone: ZoneInfo) -> datetime:
    """The instant a day ends (midnight after it) in the unit's zone: "til og med" that day."""
    return local_at(day + timedelta(days=1), time(0, 0), zone)


def default_deadline(now: datetime, zone: ZoneInfo) -> datetime:
    """The end of the second working day after today."""
    day = now.astimezone(zone).date()
    for _ in range(DEFAULT_WORKING_DAYS):
        day = next_working_day(day + timedelta(days=1))
    return end_of(day, zone)


def parse_deadline(text: str, now: datetime, zone: ZoneInfo) -> datetime:
    """What a person typed ("fredag", "4.12.", "24.12. kl 14", "2026-12-01 14:00"), through that day when no
    time is given; a moment that has passed is questioned (:mod:`bot.dates.parse`)."""
    when = dates.parse_when(text, now.astimezone(zone).date())
    dates.check_future(when, now, zone, key="ideas.deadline_past")
    return dates.moment_of(when, now, zone)


def deadline_text(ctx: HandlerContext, case: Case) -> str:
    if case.ideas_deadline is None:
        return ctx.t("ideas.no_deadline")
    # The same words as every other deadline ("til og med tirsdag 1.12.2026"), not a bare 01.12.2026.
    return show_deadline(ctx.t, case.ideas_deadline, _zone(ctx, case).key)


def is_open(ctx: HandlerContext, case: Case) -> bool:
    return case.step == "ideas" and (case.ideas_deadline is None or ctx.now < case.ideas_deadline)


def set_deadline(ctx: HandlerContext, case: Case, text: str) -> None:
    cases.require_steer(ctx, case)
    cases.require_step(case, "define", "blindspot", "ideas")
    case.ideas_deadline = parse_deadline(text, ctx.now, _zone(ctx, case))
    case.updated_at = ctx.now
    ctx.session.flush()
    speaker = cases.for_case(ctx, case)
    cases.post_in_case(ctx, case, speaker.t("ideas.deadline_set", when=deadline_text(speaker, case)))
    cases.refresh_head(ctx, case)


# --------------------------------------------------------------------------------------------------
# Ideas
# --------------------------------------------------------------------------------------------------


def intro(ctx: HandlerContext, case: Case) -> Reply:
    if case.ideas_deadline is None or case.ideas_deadline <= ctx.now:
        case.ideas_deadline = default_deadline(ctx.now, _zone(ctx, case))
    text = ctx.t("ideas.intro", when=deadline_text(ctx, case))
    blocks: list[Block] = [Text(text)]
    kept = live_ideas(ctx, case)
    if kept:
        # Ideas people had before the hunt (ux.md item 17) open it, so nobody has to type them again.
        lines = [ctx.t("ideas.kept_line", number=i.number, text=cases.short(i.text, 120)) for i in kept]
        blocks.append(Text(ctx.t("ideas.kept_title") + "\n" + "\n".join(lines)))
    blocks.append(Note(ctx.t("ideas.intro_note")))
    return Reply(fallback=text, blocks=tuple(blocks))


def live_ideas(ctx: HandlerContext, case: Case) -> list[Idea]:
    """The case's ideas that are not struck, by number."""
    return list(
        ctx.session.scalars(
            select(Idea).where(Idea.case_id == case.id, Idea.struck_at.is_(None)).order_by(Idea.number)
        )
    )


def chain(ctx: HandlerContext, idea: Idea) -> list[int]:
    """The numbers from ``idea`` back to the idea its line started with: [5, 3, 1]."""
    return [i.number for i in chain_ideas(ctx, idea)]


def chain_ideas(ctx: HandlerContext, idea: Idea) -> list[Idea]:
    found = [idea]
    seen = {idea.id}
    current = idea
    while current.builds_on_id is not None and current.builds_on_id not in seen:
        parent = ctx.session.get(Idea, current.builds_on_id)
        if parent is None:
            break
        found.append(parent)
        seen.add(parent.id)
        current = parent
    return found


def chain_text(numbers: list[int]) -> str:
    return " ← ".join(f"#{n}" for n in numbers)


def ballot_label(ctx: HandlerContext, idea: Idea) -> str:
    """An idea as the vote, its result and the plan show it: a built-on idea with its chain and where the
    line started, so "barna kan flytte bildene sine selv" says which board is meant (ux.md item 8)."""
    line = chain_ideas(ctx, idea)
    if len(line) == 1:
        return idea.text
    return ctx.t(
        "ideas.ballot_built",
        chain="".join(f"← #{i.number} " for i in line[1:]).strip(),
        base=cases.short(line[-1].text, 60),
        text=idea.text,
    )


def on_ballot(idea: Idea) -> bool:
    """Struck ideas never go to the vote; a "men …" idea only once its author has rephrased it."""
    return idea.struck_at is None and not idea.blocking


def find_idea(ctx: HandlerContext, case: Case, number: int) -> Idea:
    idea = ctx.session.scalar(select(Idea).where(Idea.case_id == case.id, Idea.number == number))
    if idea is None:
        raise UserError("ideas.unknown_idea", number=number)
    return idea


def _exists(ctx: HandlerContext, case: Case, number: int) -> bool:
    found = ctx.session.scalar(
        select(Idea.id).where(Idea.case_id == case.id, Idea.number == number, Idea.struck_at.is_(None))
    )
    return found is not None


def read_link(ctx: HandlerContext, case: Case, text: str) -> tuple[str, int | None, bool]:
    """Split a "Ja, og …" opening off ``text``: (the idea's own text, the idea it builds on, unsure).

    Certain: a marked number ("#2", "nr. 2", "idé 2"), or a bare one that is an idea ("ja og 2 så kan …").
    Unsure: "ja, og …" without a number, or a bare number that is no idea ("ja og 2 voksne til"): the text
    is kept whole and the author is asked."""
    match = _BUILD.match(text)
    if match is not None:
        number = int(match.group(2))
        if match.group(1) is not None or _exists(ctx, case, number):
            return text[match.end() :], number, False
        return text, None, True
    return text, None, _BUILD_UNNUMBERED.match(text) is not None


def _guess(ctx: HandlerContext, case: Case, idea: Idea) -> Idea | None:
    """The idea an unsure "ja, og …" most likely builds on: the latest one by somebody else."""
    return ctx.session.scalar(
        select(Idea)
        .where(
            Idea.case_id == case.id,
            Idea.id != idea.id,
            Idea.struck_at.is_(None),
            or_(Idea.author_id.is_(None), Idea.author_id != ctx.member.id),
        )
        .order_by(Idea.number.desc())
        .limit(1)
    )


def _store(ctx: HandlerContext, case: Case, text: str, parent: Idea | None) -> Idea:
    cleaned = ctx.text(text)
    repeated = ctx.session.scalar(
        select(Idea.id).where(Idea.case_id == case.id, Idea.author_id == ctx.member.id, Idea.text == cleaned)
    )
    if repeated is not None:
        raise UserError("errors.duplicate")
    last = ctx.session.scalar(select(func.max(Idea.number)).where(Idea.case_id == case.id))
    idea = Idea(
        case_id=case.id,
        number=int(last or 0) + 1,
        text=cleaned,
        author_id=ctx.member.id,
        builds_on_id=parent.id if parent else None,
        blocking=bool(_BLOCKING.match(cleaned)),
        created_at=ctx.now,
    )
    ctx.session.add(idea)
    case.updated_at = ctx.now
    cases.add_participant(ctx, case)
    ctx.session.flush()
    return idea


def add_idea(ctx: HandlerContext, case: Case, text: str, builds_on: int | None = None) -> Idea:
    """Store an idea. ``ja, og #3 …`` at its start links it to idea 3 unless ``builds_on`` says so."""
    cases.require_step(case, "ideas")
    if not is_open(ctx, case):
        raise UserError("ideas.closed", when=deadline_text(ctx, case))
    raw = ctx.text(text)
    unsure = False
    if builds_on is None:
        raw, builds_on, unsure = read_link(ctx, case, raw)
        raw = ctx.text(raw)  # "ja, og #1" and nothing more: empty, before any idea is looked up
    parent = find_idea(ctx, case, builds_on) if builds_on is not None else None
    idea = _store(ctx, case, raw, parent)
    cases.post_in_case(ctx, case, idea_reply(cases.for_case(ctx, case), case, idea))
    _receipt(ctx, case, idea, parent, _guess(ctx, case, idea) if unsure else None)
    cases.refresh_head(ctx, case)
    return idea


def keep_for_later(ctx: HandlerContext, case: Case, text: str) -> Idea:
    """An idea typed before the hunt (in the define or blind-spot step): kept with its number for the
    hunt, which lists it when it opens. Its author sees it was kept and can take it back."""
    cases.require_step(case, "define", "blindspot")
    idea = _store(ctx, case, text, None)
    entries.receipt(ctx, case, entries.IDEA, idea.id, entries.idea_label(ctx, idea), key="kept_for_hunt")
    cases.refresh_head(ctx, case)
    return idea


def _receipt(ctx: HandlerContext, case: Case, idea: Idea, parent: Idea | None, guess: Idea | None) -> None:
    """What the author sees privately: what the idea became (and "angre"); for a "men …" idea the rule and
    a way to rephrase it; for an unsure "ja, og …" the question which idea it builds on."""
    label = entries.idea_label(ctx, idea, parent.number if parent else None)
    lines = [ctx.t("entries.taken", what=label, number=case.id)]
    buttons = [Button(ctx.t("entries.undo_button"), "case.undo", f"{case.id}:{entries.IDEA}:{idea.id}")]
    if idea.blocking:
        lines.append(ctx.t("ideas.reminder"))
        rephrase = Button(ctx.t("ideas.rephrase_button"), "ideas.rephrase", f"{case.id}:{idea.number}")
        buttons.insert(0, rephrase)
    elif guess is not None:
        lines.append(ctx.t("ideas.link_question", number=guess.number, text=cases.short(guess.text, 80)))
        label = ctx.t("ideas.link_button", number=guess.number)
        buttons.insert(0, Button(label, "ideas.link", f"{case.id}:{idea.number}:{guess.number}", "primary"))
    text = "\n".join(lines)
    ctx.private(Reply(fallback=text, blocks=(Text(text), Buttons(tuple(buttons)))))


def _own_open_idea(ctx: HandlerContext, case: Case, number: int) -> Idea:
    cases.require_step(case, "ideas")
    if not is_open(ctx, case):
        raise UserError("ideas.closed", when=deadline_text(ctx, case))
    idea = find_idea(ctx, case, number)
    if idea.author_id != ctx.member.id or idea.struck_at is not None:
        raise UserError("ideas.not_yours", number=number)
    return idea


def link(ctx: HandlerContext, case: Case, number: int, parent_number: int) -> None:
    """The author answers "Bygger du på #4?" with yes: the idea joins that line."""
    idea = _own_open_idea(ctx, case, number)
    parent = find_idea(ctx, case, parent_number)
    if parent.id == idea.id or idea.id in {i.id for i in chain_ideas(ctx, parent)}:
        raise UserError("ideas.unknown_idea", number=parent_number)
    if idea.builds_on_id == parent.id:
        raise UserError("errors.duplicate")
    idea.builds_on_id = parent.id
    # "Ja, og så …" reads as it should once the link is shown by the chain: the opening goes.
    opening = _BUILD_UNNUMBERED.match(idea.text)
    if opening is not None and idea.text[opening.end() :].strip():
        idea.text = idea.text[opening.end() :].strip()
    ctx.session.flush()
    speaker = cases.for_case(ctx, case)
    cases.post_in_case(
        ctx, case, speaker.t("ideas.linked", number=idea.number, chain=chain_text(chain(ctx, idea)))
    )
    cases.refresh_head(ctx, case)


def rephrase(ctx: HandlerContext, case: Case, number: int, text: str) -> None:
    """The author rewrites their idea (after the "men …" reminder): it goes on the ballot once it no
    longer blocks."""
    idea = _own_open_idea(ctx, case, number)
    raw, builds_on, _ = read_link(ctx, case, ctx.text(text))
    cleaned = ctx.text(raw)
    if builds_on is not None and builds_on != idea.number:
        idea.builds_on_id = find_idea(ctx, case, builds_on).id
    idea.text = cleaned
    idea.blocking = bool(_BLOCKING.match(cleaned))
    ctx.session.flush()
    speaker = cases.for_case(ctx, case)
    name = cases.name_of(ctx.member)
    cases.post_in_case(ctx, case, speaker.t("ideas.rephrased", number=idea.number, name=name, text=cleaned))
    if idea.blocking:
        ctx.private(ctx.t("ideas.still_blocking", number=idea.number))
    else:
        ctx.private(ctx.t("ideas.on_ballot_now", number=idea.number))
    cases.refresh_head(ctx, case)


def idea_reply(ctx: HandlerContext, case: Case, idea: Idea) -> Reply:
    author = ctx.session.get(Member, idea.author_id) if idea.author_id else None
    text = ctx.t("ideas.posted", number=idea.number, name=cases.name_of(author), text=idea.text)
    blocks: list[Block] = [Text(text)]
    numbers = chain(ctx, idea)
    if len(numbers) > 1:
        blocks.append(Note(ctx.t("ideas.chain", chain=chain_text(numbers))))
    label = ctx.t("ideas.build_button", number=idea.number)
    blocks.append(Buttons((Button(label, "ideas.build", f"{case.id}:{idea.number}"),)))
    return Reply(fallback=text, blocks=tuple(blocks))


def on_message(ctx: HandlerContext, case: Case, msg: Message) -> None:
    add_idea(ctx, case, msg.text)


def head_section(ctx: HandlerContext, case: Case) -> list[Block]:
    ideas = live_ideas(ctx, case)
    if not ideas and case.step != "ideas":
        return []
    if is_open(ctx, case):
        state = deadline_text(ctx, case)
    elif cases.STEPS.index(case.step) < cases.STEPS.index("ideas"):
        state = ctx.t("ideas.head_waiting")  # kept before the hunt
    else:
        state = ctx.t("ideas.head_closed")
    lines = [ctx.t("ideas.head_title", count=len(ideas), state=state)]
    for idea in ideas[-HEAD_IDEAS:]:
        key = "ideas.head_line_blocking" if idea.blocking else "ideas.head_line"
        lines.append(ctx.t(key, chain=chain_text(chain(ctx, idea)), text=cases.short(idea.text, 80)))
    if len(ideas) > HEAD_IDEAS:
        more = plural(ctx.language, "counts.earlier_ideas", len(ideas) - HEAD_IDEAS)
        lines.append(ctx.t("ideas.head_more", count=more))
    return [Text("\n".join(lines))]


def head_buttons(ctx: HandlerContext, case: Case) -> list[Button]:
    return [
        Button(ctx.t("ideas.add_button"), "ideas.add", str(case.id), "primary"),
        Button(ctx.t("ideas.deadline_button"), "ideas.deadline", str(case.id)),
    ]


def register(steps: StepHooks) -> None:
    steps.intros["ideas"] = intro
    steps.thread_handlers["ideas"] = on_message
    steps.head_buttons["ideas"] = head_buttons
    steps.add_head_section(head_section)
