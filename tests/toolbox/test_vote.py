"""Dot voting through the console and through concurrent events: budgets, caps, hidden results, ties,
moving dots, closing by hand and by deadline, and exact counts under concurrency on SQLite and PostgreSQL.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime

from sqlalchemy import func, select

from bot.chat.model import Action, Actor, Place, Submission
from bot.chat.router import Router
from bot.core import Partsbot
from bot.course import scheduler
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import Member
from bot.toolbox.followup import close_due_votes
from bot.toolbox.models import Case
from bot.toolbox.models_plan import Vote, VoteDot, VoteOption
from handlers import build_router
from tests.console_driver import ConsoleDriver, message_number, option_number


def public_messages(transcript: str) -> list[str]:
    """The bot's messages everyone in the channel sees (not the private ones), as text."""
    messages: list[list[str]] = []
    for line in transcript.splitlines():
        if line.lstrip().endswith("Partsbot:"):
            messages.append([line])
        elif messages and line.startswith("  "):
            messages[-1].append(line)
    return ["\n".join(m) for m in messages if "bare synlig" not in m[0]]


async def _case_with_ideas(console: ConsoleDriver) -> str:
    """Four colleagues, a mini-case at the idea hunt with three ideas; returns the case thread number."""
    await console.start()
    for who in ("Kari leder", "Siri tillitsvalgt", "Per ansatt", "Ola verneombud"):
        await console.type(f"/som {who}")
    out = await console.type("/parts idejakt Hvem gjør hva i garderoben")
    thread = message_number(out, "== Sak #1: Hvem gjør hva i garderoben ==")
    await console.type(
        f"/tråd {thread}", "Felles tavle ved inngangen", "Ja, og #1 med bilder av hvem som er på jobb"
    )
    await console.as_("Per", "Morgenmøte på fem minutter")
    return thread


async def test_case_vote_flow_with_hidden_results(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await _case_with_ideas(console)
    out = await console.type("/parts stemme")
    assert "Bare den som startet saken, eller leder, verneombud eller tillitsvalgt" in out  # Per is staff
    out = await console.as_("Ola", "/parts stemme 4 2")
    assert "Nå stemmer vi over idéene! Hver har 4 prikker, maks 2 på samme idé." in out
    assert "Frist: til og med torsdag 26.11.2026." in out  # two working days after Tuesday
    assert "0 har stemt så langt." in out
    out = await console.type("#1 #1 #2")
    assert "1 av 4 igjen" in out
    assert "1 har stemt så langt." in out
    # Over the cap, over the budget, an unknown option, chatter: clear answers, nothing changes.
    assert "Du kan gi maks 2 prikker til samme idé." in await console.type("#3 #3 #3")
    assert "Du har bare 4 prikker, og har brukt 3." in await console.type("#1 #1 #2 #2 #3")
    assert "Det finnes ikke noe alternativ #7" in await console.type("#7")
    assert "Nå stemmer vi. Skriv numrene" in await console.type("Jeg liker alle!")
    assert "Det er allerede registrert." in await console.type("#1, #1, #2")  # the same ballot again
    # Per votes with the buttons of his private ballot; a double-click changes nothing.
    out = await console.as_("Per", "/parts stemme")
    assert "(bare synlig for Per)" in out and "4 av 4 igjen" in out
    # In the voting thread a bare number is a vote, so the buttons are pressed with /velg.
    add_two = "/velg " + option_number(out, "+ #2")
    out = await console.type(add_two)
    assert "3 av 4 igjen" in out
    assert "2 har stemt så langt." in out  # the head shows how many, nothing more
    assert "Det er allerede registrert." in await console.type(add_two)
    out = await console.type("/velg " + option_number(out, "+ #2"), "#2 #2 #3")
    assert "1 av 4 igjen" in out
    assert "har stemt så langt" not in out  # the number of voters did not change: no head update
    assert not any("●" in message for message in public_messages(console.transcript))
    # Siri moves her dots until the close.
    await console.as_("Siri", "#1 #1")
    out = await console.type("#1 #3")
    assert "2 av 4 igjen" in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(VoteDot)) == 3 + 3 + 2
    out = await console.as_("Ola", "/parts stemme lukk")
    assert "3 stemte, 8 prikker i alt." in out
    assert "Delt førsteplass: #1, #2." in out
    assert "1. (delt) #1 Felles tavle ved inngangen – 3 ●" in out
    assert "1. (delt) #2 ← #1 «Felles tavle ved inngangen» + med bilder av hvem som er på jobb – 3 ●" in out
    assert "3. #3 Morgenmøte på fem minutter – 2 ●" in out
    assert "Steg: 5/6 Finn løsninger sammen" in out
    assert "Avstemmingen er lukket." in await console.as_("Per", add_two)  # an old ballot button
    with database.transaction() as s:
        assert s.scalar(select(Case.step)) == "plan"
        assert s.scalar(select(Vote.status)) == "closed"


async def test_ties_are_shown_as_ties(make_bot) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    await console.as_("Kari leder")
    out = await console.type("/parts stemme 2 2")
    assert "== Ny prikkstemming ==" in out
    out = await console.type("Hva prøver vi først?", "Tavle; Morgenmøte; App", "", "", "")
    assert "== Prikkstemming: Hva prøver vi først? ==" in out
    head = message_number(out, "== Prikkstemming: Hva prøver vi først? ==")
    await console.type(f"/tråd {head}", "#1 #2")
    await console.as_("Ola", "#2 #1")
    await console.as_("Per", "#3")
    out = await console.as_("Kari", "/parts stemme lukk")
    assert "Delt førsteplass: #1, #2." in out
    assert "1. (delt) #1 Tavle – 2 ●" in out
    assert "1. (delt) #2 Morgenmøte – 2 ●" in out
    assert "3. #3 App – 1 ●" in out
    assert "Avstemmingen er lukket." in await console.type("/parts stemme lukk")


async def test_standalone_vote_bad_input(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    assert "må være fra 1 til 20" in await console.type("/parts stemme 0")
    assert "Maks prikker per idé må være fra 1 til antall prikker (3)" in await console.type(
        "/parts stemme 3 4"
    )
    assert "«snart» forstår jeg ikke som dato" in await console.type("/parts stemme 3 2 snart")
    await console.type("/parts stemme")
    out = await console.type("Hva først?", " ; ; ", "3", "2", "")
    assert "Teksten er tom." in out or "ingenting å stemme over" in out
    await console.type("/parts stemme")
    out = await console.type("Hva først?", "A; B", "3", "2", "2026-11-01")
    assert "1.11.2026 har allerede vært. Velg en dato fram i tid." in out
    await console.type("/parts stemme")
    out = await console.type("Hva først?", "A; B", "3", "2", "fredag")
    assert "Frist: til og med fredag 27.11.2026." in out
    await console.type("/parts stemme")
    out = await console.type("Hva først?", "A; B", "3", "2", "fredag")
    assert "Denne avstemmingen er allerede lagt ut (avstemming 1)." in out
    out = await console.as_("Per", "/parts stemme lukk")
    assert "Bare den som startet avstemmingen" in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(Vote)) == 1


async def test_case_without_ideas_cannot_vote(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    await console.as_("Ola verneombud")
    out = await console.type("/parts idejakt Garderoben om morgenen")
    thread = message_number(out, "== Sak #1: Garderoben om morgenen ==")
    out = await console.type(f"/tråd {thread}", "/parts stemme")
    assert "Sak #1 har ingen idéer ennå" in out
    with database.transaction() as s:
        assert s.scalar(select(Case.step)) == "ideas"
        assert s.scalar(select(func.count()).select_from(Vote)) == 0


async def test_rules_change_only_before_anyone_voted(make_bot) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await _case_with_ideas(console)
    await console.as_("Ola", "/parts stemme")
    out = await console.type("/parts stemme 5 1")
    assert "Nye regler for prikkstemmingen: Hver har 5 prikker, maks 1 på samme idé." in out
    await console.type("#1 #2")
    assert "Noen har allerede stemt" in await console.type("/parts stemme 3 2")


async def test_deadline_closes_votes_through_the_scheduler_hook(make_bot, database, clock) -> None:  # type: ignore[no-untyped-def]
    bot = make_bot()
    console = ConsoleDriver(bot)
    await _case_with_ideas(console)
    await console.as_("Ola", "/parts stemme 3 2 i morgen 12:00")
    await console.type("#2 #2 #3")
    out = await console.type("/kanal", "/parts stemme")
    # Case #1 is voting: "Gjelder det sak #1 eller en ny?" – the standalone vote is a choice (issue 13).
    await console.type(option_number(out, "En ny avstemming"))
    await console.type("Egen liste", "A; B", "3", "2", "i morgen")
    with database.transaction() as s:
        assert close_due_votes(s, clock(), bot.router.steps) == []
    clock.set(datetime(2026, 11, 25, 11, 0, tzinfo=UTC))  # 12:00 in Oslo: the case's vote is due
    with database.transaction() as s:
        assert close_due_votes(s, clock(), bot.router.steps) == [1]
    await bot.delivery.flush()
    out = console.take()
    assert "1 stemte, 3 prikker i alt." in out
    assert "1. #2 ← #1 «Felles tavle ved inngangen» + med bilder av hvem som er på jobb – 2 ●" in out
    assert "Steg: 5/6 Finn løsninger sammen" in out
    clock.set(datetime(2026, 11, 25, 23, 0, tzinfo=UTC))  # midnight in Oslo: "through tomorrow" is over
    with database.transaction() as s:
        assert close_due_votes(s, clock(), bot.router.steps) == [2]
        assert close_due_votes(s, clock(), bot.router.steps) == []
    await bot.delivery.flush()
    out = console.take()
    assert "== Prikkstemming: Egen liste ==" in out
    assert "Ingen stemte." in out
    with database.transaction() as s:
        assert s.scalars(select(Vote.closed_by_id)).all() == [None, None]


# --------------------------------------------------------------------------------------------------
# Concurrency: many people at once, and one person clicking many times at once
# --------------------------------------------------------------------------------------------------


PLACE = Place("console", "console", "personalet")


def _action(user: str, value: str) -> Action:
    return Action(Actor(user, user.title()), PLACE, "vote.set", value)


async def test_concurrent_votes_are_counted_exactly_once(default_and_postgres: Database, clock) -> None:  # type: ignore[no-untyped-def]
    bot = Partsbot(
        Settings(database_url=default_and_postgres.url, env="test"),
        default_and_postgres,
        build_router(),
        clock,
    )
    form = {"title": "Hva først?", "options": "A; B; C; D; E", "budget": "3", "cap": "2", "deadline": ""}
    await bot.handle(Submission(Actor("kari", "Kari"), PLACE, "vote.create", form))
    with default_and_postgres.transaction() as s:
        vote_id = s.scalar(select(Vote.id))
        options = {o.position: o.id for o in s.scalars(select(VoteOption).order_by(VoteOption.position))}
    # 30 people at once, each putting one dot on option 1 + (i % 5): 6 dots per option.
    await asyncio.gather(
        *(bot.handle(_action(f"p{i}", f"{vote_id}:{options[1 + i % 5]}:1")) for i in range(30))
    )
    # One person sending five different dots at once (budget 3), another double-clicking five times.
    await asyncio.gather(*(bot.handle(_action("eager", f"{vote_id}:{options[n]}:1")) for n in range(1, 6)))
    await asyncio.gather(*(bot.handle(_action("clicker", f"{vote_id}:{options[2]}:2")) for _ in range(5)))
    with default_and_postgres.transaction() as s:
        dots = s.execute(select(VoteDot.member_id, VoteDot.option_id)).all()
        per_member = Counter(member for member, _ in dots)
        assert len(per_member) == 32
        assert max(per_member.values()) == 3
        ids = dict(s.execute(select(Member.user_id, Member.id)).all())
        assert (per_member[ids["eager"]], per_member[ids["clicker"]]) == (3, 2)
        assert Counter(o for m, o in dots if m == ids["clicker"]) == {options[2]: 2}
        people = {ids[f"p{i}"] for i in range(30)}
        assert Counter(o for m, o in dots if m in people) == {options[n]: 6 for n in range(1, 6)}


def test_step_hooks_belong_to_the_router_that_was_built() -> None:
    """Each router owns its case-step hooks: building one fills only its own, and a bare router has none."""
    first, second = build_router(), build_router()
    assert first.steps is not second.steps
    assert set(first.steps.intros) == {"define", "blindspot", "ideas", "vote", "plan", "agreed"}
    assert set(first.steps.exits) == {"blindspot", "vote", "plan"}
    assert len(first.steps.head_sections) == len(second.steps.head_sections) == 6
    assert Router().steps.intros == {}


async def test_the_scheduler_closes_a_case_vote_with_its_own_bots_steps(make_bot, clock) -> None:  # type: ignore[no-untyped-def]
    """The scheduler's tick moves a case from its vote to the plan with the hooks of the bot it ticks for."""
    bot = make_bot()
    console = ConsoleDriver(bot)
    await _case_with_ideas(console)
    await console.as_("Ola", "/parts stemme 3 2 i morgen 12:00")
    console.take()
    clock.set(datetime(2026, 11, 25, 11, 0, tzinfo=UTC))
    await scheduler.tick(bot, clock())
    out = console.take()
    assert "Steg: 5/6 Finn løsninger sammen" in out
    with bot.db.transaction() as s:
        assert s.scalar(select(Case.step)) == "plan"
