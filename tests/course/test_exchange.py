"""Module 6's experience exchange between two kindergartens of one console workspace, and a third
kindergarten of another organisation that can join only with the code – on both databases.

What it proves: the page is drafted from the unit's own data with the thresholds applied and without any
parties-only material; nothing is posted before the other party confirms the trio's choice (and only the
chosen items are); questions go to the sharing trio and answers come back in the page's thread; the
reflections of the group's units are pooled to reach the digest's threshold.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import select

from bot.chat.model import Action, Actor, Command, Effect, Place, Private, Submission
from bot.core import Partsbot
from bot.course import survey
from bot.course.checkin import INDICATORS
from bot.course.models import CheckinRound, CourseRun
from bot.course.models_exchange import ExchangePage, ExchangeRun, ReflectionRound
from bot.settings import Settings
from bot.storage.db import Database
from bot.storage.models import Member, PostedMessage, Unit
from bot.toolbox.models import Case
from bot.toolbox.models_plan import ActionItem, Meeting, Plan
from handlers import build_router
from tests.console_driver import ConsoleDriver, option_number
from tests.course.course_helpers import TEAM, oslo, team, walk

BLAABAER = (
    ("Eva", "leder"),
    ("Tor", "verneombud"),
    ("Liv", "tillitsvalgt"),
    ("Ida", "ansatt"),
    ("Ane", "ansatt"),
    ("Ole", "ansatt"),
    *((name, "ansatt") for name in ("Mia", "Even", "Sara", "Tone", "Arne")),
)
CODE = re.compile(r"\b[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}\b")
SECRET = ("Konflikt om turnus", "FORTROLIG")


def section(out: str, head: str) -> str:
    """The message that starts with ``head`` in ``out``, up to the next message."""
    assert head in out, out
    return out.split(head, 1)[1].split(" Partsbot:", 1)[0]


def texts(effects: list[Effect]) -> str:
    return "\n".join(e.reply.fallback + str(e.reply.blocks) for e in effects if isinstance(e, Private))


async def other_organisation(bot: Partsbot, kind: str, text: str = "", value: str = "") -> str:
    """Hanne, leder of a kindergarten in another workspace, types a command or presses a button."""
    actor = Actor("u-hanne", "Hanne")
    place = Place("console", "other-workspace", "furua")
    if kind == "command":
        name, _, args = text.partition(" ")
        effects = await bot.handle(Command(actor, place, name, args))
    elif kind == "form":
        effects = await bot.handle(Submission(actor, place, text, {"text": "Et spørsmål"}, value))
    else:
        effects = await bot.handle(Action(actor, place, kind, value))
    return texts(effects)


def seed_solsikken(db: Database, now: datetime) -> None:
    """What Solsikken did during the course, written as the tools would have: an ordinary case with a plan
    and a HØRA meeting; a newer parties-only case with a plan and a meeting, and a partsmøte of the trio
    (never to be shared); three closed check-in weeks, of which the last has too few answers to be shown."""
    with db.transaction() as s:
        unit = s.scalars(select(Unit).where(Unit.channel_id == "personalet")).one()
        kari = s.scalars(select(Member).where(Member.user_id == "u-kari")).one()
        members = s.scalars(select(Member).where(Member.organisation_id == unit.organisation_id)).all()
        ordinary = Case(
            unit_id=unit.id,
            title="Det brukes for mye tid på å avklare hvem som gjør hva",
            statement="Beskjeder om hvem som gjør hva og hvor blir borte mellom vaktene.",
            started_by_id=kari.id,
        )
        secret = Case(
            unit_id=unit.id,
            title="Konflikt om turnus, Per vurderer sykmelding",
            statement="FORTROLIG: bare for partene.",
            started_by_id=kari.id,
            parties_only=True,
        )
        s.add_all([ordinary, secret])
        s.flush()
        for case, goal, actions in (
            (ordinary, "Alle vet hvem som gjør hva hver morgen", ("Tavle i garderoben", "Fast morgenmøte")),
            (secret, "FORTROLIG mål", ("FORTROLIG tiltak",)),
        ):
            plan = Plan(unit_id=unit.id, case_id=case.id, goal=goal, status="agreed")
            s.add(plan)
            s.flush()
            for number, text in enumerate(actions, start=1):
                done = now - timedelta(days=3) if number == 1 else None
                s.add(
                    ActionItem(
                        plan_id=plan.id,
                        number=number,
                        text=text,
                        owner_id=kari.id,
                        due=date(2027, 4, 1),
                        done_at=done,
                    )
                )
        for case_id, purpose, desired, kind in (
            (ordinary.id, "Bli enige om tavla", "En tavle alle bruker", "staff"),
            (secret.id, "FORTROLIG møte", "FORTROLIG resultat", "trio"),
            # The trio's own meeting (partsmøte) is theirs alone, even without a case.
            (None, "FORTROLIG partsmøte", "FORTROLIG avklaring", "trio"),
        ):
            start = now - timedelta(days=20)
            s.add(
                Meeting(
                    unit_id=unit.id,
                    kind=kind,
                    organiser_id=kari.id,
                    case_id=case_id,
                    purpose=purpose,
                    desired_result=desired,
                    starts_at=start,
                    length_minutes=60,
                    ends_at=start + timedelta(hours=1),
                    result="yes",
                )
            )
        rounds = s.scalars(
            select(CheckinRound)
            .where(CheckinRound.unit_id == unit.id, CheckinRound.closes_at <= now)
            .order_by(CheckinRound.week)
        ).all()
        # Five answers of 2s and 3s, six of 3s and 4s, and three 1s that must never show.
        for round_, scores in (
            (rounds[2], (2, 3, 3, 2, 3)),
            (rounds[5], (3, 4, 4, 3, 4, 4)),
            (rounds[-1], (1, 1, 1)),
        ):
            for member, score in zip(members, scores, strict=False):
                survey.record(s, round_, member.id, dict.fromkeys(INDICATORS, score))


async def test_two_kindergartens_share_what_their_trios_chose_and_nothing_else(
    default_and_postgres: Database, clock
) -> None:  # type: ignore[no-untyped-def]
    db = default_and_postgres
    clock.set(oslo(2027, 1, 4, 10).astimezone(UTC))
    bot = Partsbot(Settings(database_url=db.url, env="test"), db, build_router(), clock)
    console = ConsoleDriver(bot)
    await console.start()
    await team(console)
    await console.as_("Kari", "/parts kurs start 2027-01-11 09:00")
    await console.type("/kanal blaabaer")
    await team(console, BLAABAER)
    await console.as_("Eva", "/parts kurs start 2027-01-11 09:00")
    with db.transaction() as s:
        s.scalars(select(Unit).where(Unit.channel_id == "blaabaer")).one().name = "Blåbær barnehage"

    # Kari makes the group; the code is hers to give. Staff cannot make one.
    refused = await console.as_("Per", "/kanal personalet", "/parts utveksling ny")
    assert "Det er leder i barnehagen som lager en utvekslingsgruppe" in refused
    made = await console.as_("Kari", "/parts utveksling ny")
    code = CODE.findall(made)[0]
    # Eva joins with it (a wrong code says nothing), and Kari is told.
    wrong = await console.as_("Eva", "/kanal blaabaer", "/parts utveksling bli med ZZZZ-ZZZZ")
    assert "Den koden kjenner jeg ikke igjen" in wrong
    joined = await console.as_("Eva", f"/parts utveksling bli med {code.lower()}")
    assert "Dere er med i utvekslingsgruppen, sammen med Solsikken barnehage." in joined
    assert (
        "[direktemelding til Kari] Partsbot:\n  Blåbær barnehage har blitt med i utvekslingsgruppen" in joined
    )

    # Module 2 is for all staff of both: seventeen are asked, fifteen answer – five in Solsikken, ten in
    # Blåbær, two of each trio among them. Alone neither has ten answers its own trio did not write;
    # pooled, both have thirteen, and both trios get the same digest.
    await walk(bot, clock, oslo(2027, 2, 2, 11, 5))
    with db.transaction() as s:
        rounds = {
            r.run_id: r.id for r in s.scalars(select(ReflectionRound).where(ReflectionRound.module == 2))
        }
        runs_by_unit = {r.unit_id: r.id for r in s.scalars(select(CourseRun))}
        units = {u.channel_id: u.id for u in s.scalars(select(Unit))}
    for people, channel in ((TEAM[1:], "personalet"), (BLAABAER[1:], "blaabaer")):
        for name, _ in people:
            user = f"u-{name.lower()}"
            place = Place("console", "console", f"dm-{user}", None, is_direct=True)
            values = {"text": f"{name} tenkte på rollene etter samlingen"}
            context = str(rounds[runs_by_unit[units[channel]]])
            await bot.handle(Submission(Actor(user, name), place, "reflection.answer", values, context))
    console.take()
    await walk(bot, clock, oslo(2027, 2, 18, 9, 5))
    out = console.take()
    for leader in ("Kari", "Eva"):
        digest = section(out, f"[direktemelding til {leader}] Partsbot:\n  == Refleksjonene etter modul 2 ==")
        assert "15 har svart, fra Solsikken barnehage, Blåbær barnehage." in digest
        assert "Ida tenkte på rollene etter samlingen" in digest
        assert "Ola tenkte på rollene etter samlingen" in digest

    # A kindergarten of another organisation cannot join without the code.
    assert "leder" in await other_organisation(bot, "command", "rolle leder")
    await other_organisation(bot, "command", "kurs start 2027-03-01 09:00")
    assert "Den koden kjenner jeg ikke igjen" in await other_organisation(
        bot, "command", "utveksling bli med ABCD-EFGH"
    )
    with db.transaction() as s:
        assert len(s.scalars(select(ExchangeRun)).all()) == 2

    # The exchange channel of the workspace: a leder names it, staff cannot.
    refused = await console.as_("Per", "/kanal utveksling", "/parts utveksling kanal")
    assert "Det er leder i barnehagen som lager en utvekslingsgruppe" in refused
    named = await console.as_("Kari", "/parts utveksling kanal")
    assert "Denne kanalen er nå utvekslingskanalen." in named

    # What Solsikken did, and then a week before module 6 (26 April) both trios get their drafts.
    await walk(bot, clock, oslo(2027, 4, 16, 12))
    seed_solsikken(db, clock())
    console.take()
    sent = await walk(bot, clock, oslo(2027, 4, 19, 10, 5))
    assert {"run:1:exchange-page:m6", "run:2:exchange-page:m6"} <= {k for _, k in sent}
    out = console.take()
    draft = section(
        out, "[direktemelding til Siri] Partsbot:\n  == Slik gjorde vi det – Solsikken barnehage (utkast) =="
    )
    assert "«Det brukes for mye tid på å avklare hvem som gjør hva»" in draft
    assert "✓ Tavle i garderoben" in draft and "○ Fast morgenmøte (ikke gjort ennå)" in draft
    assert "1 av 2 tiltak er gjort." in draft
    assert "• Bli enige om tavla – ønsket resultat: En tavle alle bruker – nådd: Ja" in draft
    assert "• Arbeidsflyt: 2,6 → 3,7" in draft
    # Parties-only material and the week with three answers never reach the draft.
    assert not any(secret in draft for secret in SECRET), draft
    assert "1,0" not in draft
    assert "Evalueringen" not in draft  # no module evaluation reached five answers
    empty = section(
        out, "[direktemelding til Eva] Partsbot:\n  == Slik gjorde vi det – Blåbær barnehage (utkast) =="
    )
    assert "Det er ikke noe å dele ennå" in empty
    # Staff get no draft.
    assert "[direktemelding til Per] Partsbot:\n  == Slik gjorde vi det" not in out

    # Hanne's kindergarten cannot reach the page by its number, before or after joining.
    with db.transaction() as s:
        page_id = s.scalars(select(ExchangePage.id).where(ExchangePage.unit_id == units["personalet"])).one()
    assert "kjenner jeg ikke igjen" in await other_organisation(bot, "exchange.choose", value=str(page_id))

    # Siri (tillitsvalgt) chooses: the case, the plan and the check-in, not the meetings.
    choose = option_number(draft, "Velg hva vi deler")
    form = await console.as_("Siri", "/dm", choose)
    assert "== Hva deler vi? ==" in form
    proposed = await console.type("ja", "ja", "nei", "ja")
    assert "Forslaget er sendt til Kari for godkjenning. Ingenting er delt ennå." in proposed
    request = section(
        proposed,
        "[direktemelding til Kari] Partsbot:\n  == Dele «slik gjorde vi det» fra Solsikken barnehage? ==",
    )
    assert "Siri (tillitsvalgt) foreslår å dele dette" in request
    assert "Bli enige om tavla" not in request
    assert "[direktemelding til Ola] Partsbot:\n  == Dele «slik gjorde vi det»" not in proposed
    # Nothing is posted before the other party confirms.
    with db.transaction() as s:
        assert s.scalars(select(PostedMessage).where(PostedMessage.key.like("exchange:%"))).all() == []
        assert s.scalars(select(ExchangePage).where(ExchangePage.id == page_id)).one().status == "proposed"
    approve = option_number(request, "Godkjenn og del")
    assert "Den andre parten godkjenner" in await console.as_("Siri", approve)
    assert "== Slik gjorde vi det – Solsikken barnehage ==" not in await console.as_("Per", approve)
    assert "== Slik gjorde vi det – Solsikken barnehage ==" not in await console.as_("Ola", approve)

    posted = await console.as_("Kari", "/dm", approve)
    page = section(posted, "== Slik gjorde vi det – Solsikken barnehage ==")
    assert "«Det brukes for mye tid på å avklare hvem som gjør hva»" in page
    assert "• Arbeidsflyt: 2,6 → 3,7" in page
    assert "Bli enige om tavla" not in page  # not chosen
    assert not any(secret in posted for secret in SECRET)
    assert "«slik gjorde vi det» er delt i utvekslingskanalen" in posted
    with db.transaction() as s:
        (row,) = s.scalars(select(PostedMessage).where(PostedMessage.key.like("exchange:%"))).all()
        assert row.channel == "utveksling"
    # The old button cannot post it twice.
    assert "allerede delt" in await console.as_("Kari", approve)

    # Eva asks about the page in the exchange channel; the question goes to Solsikken's trio.
    ask = option_number(posted, "Still et spørsmål")
    form = await console.as_("Eva", "/kanal utveksling", ask)
    assert "Hva vil du spørre Solsikken barnehage om?" in form
    asked = await console.type("Hvordan fikk dere alle til å bruke tavla?")
    assert "Spørsmålet er sendt til leder, verneombud og tillitsvalgt i Solsikken barnehage." in asked
    question = section(asked, "[direktemelding til Ola] Partsbot:\n  == Spørsmål om siden deres ==")
    assert "Eva (Blåbær barnehage) spør: Hvordan fikk dere alle til å bruke tavla?" in question
    assert "[direktemelding til Per] Partsbot:\n  == Spørsmål om siden deres" not in asked
    reply = option_number(question, "Svar")
    assert "== Svar på spørsmålet ==" not in await console.as_("Per", reply)
    form = await console.as_("Ola", reply)
    assert "== Svar på spørsmålet ==" in form
    answered = await console.type("Vi tok den opp på hvert morgenmøte i to uker.")
    assert "(tråd #" in answered
    assert "Svar fra Solsikken barnehage: Vi tok den opp på hvert morgenmøte i to uker." in answered
    assert (
        "[direktemelding til Eva] Partsbot:\n  Solsikken barnehage har svart på spørsmålet ditt" in answered
    )

    # Hanne, outside the group, cannot ask either.
    assert "kjenner jeg ikke igjen" in await other_organisation(bot, "exchange.ask", value=str(page_id))
    assert "kjenner jeg ikke igjen" in await other_organisation(
        bot, "form", "exchange.question", str(page_id)
    )
    # With the code she joins – then she may ask (from a kindergarten she belongs to).
    joined = await other_organisation(bot, "command", f"utveksling bli med {code}")
    assert "Dere er med i utvekslingsgruppen" in joined
    assert "kjenner jeg ikke igjen" not in await other_organisation(
        bot, "form", "exchange.question", str(page_id)
    )
