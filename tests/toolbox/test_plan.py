"""Find solutions together through the console: goal, obstacles, outcome, actions with owners and dates,
approvals by the party roles, approvals reset by a change, the agreed step, and the follow-up data."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select

from bot.storage.models import Member
from bot.toolbox import planning
from bot.toolbox.followup import actions_due
from bot.toolbox.models import Case
from bot.toolbox.models_plan import ActionItem, Approval, Plan, Stance
from tests.console_driver import ConsoleDriver, message_number, option_number

# The clock fixture says Tuesday 24 November 2026, 10:30 in Oslo.


async def _case_at_plan(console: ConsoleDriver, *people: str) -> str:
    """Colleagues with roles and a case that jumped from the idea hunt to the plan; returns its thread."""
    await console.start()
    for who in people or ("Kari leder", "Siri tillitsvalgt", "Per ansatt", "Ola verneombud"):
        await console.type(f"/som {who}")
    out = await console.type("/parts idejakt For mye tid går med til å avklare hvem som gjør hva og hvor")
    thread = message_number(out, "== Sak #1:")
    await console.type(f"/tråd {thread}", "Felles tavle ved inngangen")
    out = await console.type("/parts plan")
    assert "*Steg 5: Finn løsninger sammen*" in out
    return thread


async def test_representatives_are_heard_and_the_leader_decides(make_bot, database, clock) -> None:  # type: ignore[no-untyped-def]
    bot = make_bot()
    console = ConsoleDriver(bot)
    await _case_at_plan(console)
    out = await console.type("/parts plan godkjenn")
    assert "Planen trenger et mål og minst ett tiltak" in out
    await console.type(
        "/parts plan mål Alle vet hvem som gjør hva når dagen starter",
        "/parts plan hindring Vi glemmer å se på tavla | tiltak Tavla gjennomgås på morgenmøtet",
        "/parts plan nådd Rolige morgener uten løpende beskjeder",
    )
    out = await console.type("/parts plan tiltak Per fredag Lage tavle ved inngangen")
    assert "1. Lage tavle ved inngangen – Per, innen fredag 27.11.2026" in out
    assert "1. Vi glemmer å se på tavla → Tavla gjennomgås på morgenmøtet" in out
    assert "*Når målet er nådd:* Rolige morgener uten løpende beskjeder" in out
    assert "verneombud Ola: har ikke sagt sitt ennå · tillitsvalgt Siri: har ikke sagt sitt ennå" in out
    assert "Leder (Kari) beslutter planen når representantene er hørt." in out
    # Closing the step by hand is refused until the leader has decided.
    out = await console.type("/parts neste")
    assert "Planen er ikke besluttet ennå." in out
    # Ola (verneombud) gives a stance; "godkjenn" means "enig" for a representative.
    out = await console.type("/parts plan godkjenn")
    assert "✅ Ola er enig i planen (verneombud)." in out
    assert "verneombud Ola: enig" in out
    # Staff cannot change the plan (SEC-16) or give a representative's stance, but can support it.
    out = await console.as_("Per", "/parts plan mål Noe helt annet")
    assert "Planen endres av den som startet saken og av leder, verneombud og tillitsvalgt." in out
    assert "Standpunkt gis av verneombud og tillitsvalgt" in await console.type("/parts plan enig")
    out = await console.type("/parts plan støtt")
    assert "👍 Per støtter planen." in out
    assert "Fra de ansatte: 1 støtter, 0 kommentarer." in out
    approve_button = option_number(out, "Godkjenn")  # the head's button, for this version
    # The leader may not decide before the representatives are heard, unless she says so.
    out = await console.as_("Kari", "/parts plan beslutt")
    assert "Disse har ikke sagt sitt ennå: tillitsvalgt Siri." in out
    # A representative's disagreement needs a reason.
    assert "Skriv hvorfor du er uenig" in await console.as_("Siri", "/parts plan uenig")
    out = await console.type("/parts plan uenig Tavla alene holder ikke for vikarene")
    assert "⚠️ Siri er uenig i planen (tillitsvalgt): «Tavla alene holder ikke for vikarene»" in out
    # Ola (a steerer) adds an action with the form: the owner comes from a list of the unit's people.
    await console.type("/som Ola")
    out = await console.type(option_number(out, "Tiltak"))
    assert "== Nytt tiltak ==" in out
    out = await console.type("Vise vikarene tavla første dag", "1", "1.12.", "")  # 1 = Kari, no indicator
    assert "Ola endret planen etter at noen hadde sagt sitt." in out
    assert "2. Vise vikarene tavla første dag – Kari, innen tirsdag 1.12.2026" in out
    assert "verneombud Ola: har ikke sagt sitt ennå · tillitsvalgt Siri: har ikke sagt sitt ennå" in out
    assert "*Plan* (versjon 6)" in out
    # Kari's old button was for the previous version.
    out = await console.as_("Kari", approve_button)
    assert "Planen er endret siden du så den." in out
    await console.as_("Ola", "/parts plan enig")
    await console.as_("Siri", "/parts plan merknad Greit, men vi evaluerer etter fire uker")
    out = await console.as_("Kari", "/parts plan godkjenn")  # "godkjenn" is the decision for the leder
    assert "✅ Kari har besluttet planen." in out
    assert "🎉 *Planen er besluttet!*" in out
    assert "Steg: 6/6" in out
    assert (
        "*Besluttet av leder Kari etter drøfting med* verneombud Ola: enig; tillitsvalgt Siri: enig med "
        "merknad – «Greit, men vi evaluerer etter fire uker»"
    ) in out
    assert "Partene er enige." not in out  # a remark is not plain agreement
    assert "Planen er besluttet og kan ikke endres lenger." in await console.type("/parts plan mål Noe annet")
    with database.transaction() as s:
        assert s.scalar(select(Case.step)) == "agreed"
        # Its actions are followed now: the case closes with the answers to "når målet er nådd".
        assert s.scalar(select(Case.closed_at)) is None
        plan = s.scalar(select(Plan))
        assert plan is not None and (plan.status, plan.revision) == ("agreed", 6)
        # The decision is the leder's alone; stances of version 5 stay as history.
        assert s.execute(select(Approval.revision, Approval.role)).all() == [(6, "leder")]
        voices = sorted(s.execute(select(Stance.revision, Stance.role, Stance.stance)).all())
        assert voices == [
            (5, "ansatt", "stoette"),
            (5, "tillitsvalgt", "uenig"),
            (5, "verneombud", "enig"),
            (6, "tillitsvalgt", "merknad"),
            (6, "verneombud", "enig"),
        ]
        assert plan.goal == "Alle vet hvem som gjør hva når dagen starter"
        owners = [s.get(Member, a.owner_id) for a in planning.actions(s, plan.id)]
        assert [m.display_name for m in owners if m is not None] == ["Per", "Kari"]
        assert sorted(planning.approvals(s, plan)) == ["leder"]
        assert planning.missing_roles(s, plan) == []


async def test_all_agree_only_when_every_stance_is_enig_and_a_lost_role_drops_its_stance(
    make_bot, database
) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await _case_at_plan(console)
    await console.type("/parts plan mål Tydelig fordeling", "/parts plan tiltak Per fredag Lage tavle")
    await console.as_("Siri", "/parts plan enig")
    out = await console.as_("Ola", "/parts plan enig")
    assert "tillitsvalgt Siri: enig · verneombud Ola: enig" in out
    # Siri steps down as tillitsvalgt: her stance goes with the role.
    await console.as_("Siri", "/parts rolle fjern tillitsvalgt")
    with database.transaction() as s:
        assert sorted(s.scalars(select(Stance.role))) == ["verneombud"]
    out = await console.as_("Kari", "/parts plan beslutt")
    assert "*Besluttet av leder Kari etter drøfting med* verneombud Ola: enig" in out
    assert "Partene er enige." in out


async def test_actions_due_and_done(make_bot, database, clock) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await _case_at_plan(console, "Kari leder", "Per ansatt")
    await console.as_("Kari", "/parts plan mål Tydelig fordeling")
    await console.type("/parts plan tiltak Per i dag Lage tavle", "/parts plan tiltak meg torsdag Ta det opp")
    with database.transaction() as s:
        unit_id = s.scalar(select(Case.unit_id))
        assert actions_due(s, unit_id, clock()) == []  # a draft plan holds proposals, not promises
    await console.type("/parts plan beslutt")  # Kari is the only party present: nobody else to hear
    with database.transaction() as s:
        due = actions_due(s, unit_id, clock())
        assert [(d.number, d.owner_name, d.overdue) for d in due] == [(1, "Per", False)]
        # Thursday 23:30 UTC is already Friday in Oslo: both are due, the first one overdue.
        due = actions_due(s, unit_id, datetime(2026, 11, 26, 23, 30, tzinfo=UTC))
        assert [(d.number, d.due, d.overdue) for d in due] == [
            (1, date(2026, 11, 24), True),
            (2, date(2026, 11, 26), True),
        ]
    out = await console.as_("Siri", "/parts plan ferdig 1")
    assert "Bare den som har ansvaret for tiltaket" in out
    out = await console.as_("Per", "/parts plan ferdig 1")
    assert "✓ Per meldte tiltak 1 ferdig: Lage tavle" in out
    assert "Det er allerede registrert." in await console.type("/parts plan ferdig 1")
    with database.transaction() as s:
        due = actions_due(s, unit_id, datetime(2026, 11, 26, 23, 30, tzinfo=UTC))
        assert [d.number for d in due] == [2]


async def test_bad_input_gets_clear_answers_and_stores_nothing(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await _case_at_plan(console, "Kari Holm leder", "Kari Lie ansatt", "Ola verneombud")
    answers = {
        "/parts plan tiltak Per fredag Lage tavle": "Jeg finner ingen «Per» i barnehagen. "
        "Velg blant: Kari Holm, Kari Lie, Ola.",
        "/parts plan tiltak kari fredag Lage tavle": "Flere passer til «kari»: Kari Holm, Kari Lie. "
        "Skriv hele navnet.",
        "/parts plan tiltak Ola 2026-11-01 Lage tavle": "Fristen søndag 1.11.2026 er allerede passert.",
        "/parts plan tiltak Ola snart Lage tavle": "Skriv `/parts plan tiltak <hvem> <dato> <tekst>`",
        "/parts plan hindring Vi glemmer tavla": "Skriv både hindringen og hvordan dere kommer forbi den",
        "/parts plan mål " + "x" * 1001: "Teksten er for lang (1001 tegn). Maks er 1000 tegn",
        "/parts plan mål": "Teksten er tom.",
        "/parts plan fjern tiltak 4": "Planen har ikke noe tiltak 4.",
        "/parts plan ferdig": "Skriv `/parts plan ferdig <nr>`",
        "/parts plan tull": "Skriv for eksempel `/parts plan mål <tekst>`",
    }
    for line, answer in answers.items():
        assert answer in await console.type(line), line
    # The full name wins over the first name.
    assert "– Kari Holm, innen" in await console.type("/parts plan tiltak Kari Holm fredag Lage tavle")
    assert "Det er allerede registrert." in await console.type(
        "/parts plan tiltak Kari Holm fredag Lage tavle"
    )
    out = await console.type("/kanal", "/parts plan #7 mål Noe")
    assert "Jeg finner ingen sak #7 som du har tilgang til." in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(ActionItem)) == 1
        plan = s.scalar(select(Plan))
        assert plan is not None and plan.goal == ""


async def test_without_any_party_role_nobody_can_approve(make_bot) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    out = await console.as_("Per", "/parts idejakt Garderoben om morgenen")
    thread = message_number(out, "== Sak #1: Garderoben om morgenen ==")
    await console.type(f"/tråd {thread}", "Tavle")
    out = await console.type("/parts plan", "/parts plan mål Ro", "/parts plan tiltak meg fredag Lage tavle")
    assert "Barnehagen har ingen bekreftet verneombud eller tillitsvalgt i Partsbot ennå." in out
    assert "Barnehagen har ingen leder i Partsbot ennå, så ingen kan beslutte planen." in out
    # Per's "godkjenn" is support (he holds no party role), never a decision.
    assert "👍 Per støtter planen." in await console.type("/parts plan godkjenn")
    assert "Det er leder som beslutter planen" in await console.type("/parts plan beslutt")
