"""The roles flows through the console adapter: three colleagues with different roles."""

from __future__ import annotations

from sqlalchemy import func, select

from bot.storage.models import RoleAssignment, RolesAnswer, RolesRound
from tests.console_driver import ConsoleDriver, message_number, option_number


async def test_three_roles_set_and_shown(make_bot) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    # The console's owner sets up the unit, so the first leder is granted at once.
    out = await console.as_("Kari", "/parts rolle leder")
    assert "Du er nå leder i Solsikken barnehage." in out
    assert "Kari er satt opp som leder i Solsikken barnehage." in out
    await console.as_("Ola", "/parts rolle verneombud")
    await console.as_("Siri", "/parts rolle tillitsvald")  # nynorsk word, stored as the canonical role
    out = await console.type("/parts rolle")
    assert "*Leder:* Kari" in out
    assert "*Verneombud:* ingen ennå" in out  # claims wait for the leder
    assert "Venter på bekreftelse fra leder:* Ola (verneombud), Siri (tillitsvalgt)" in out
    await console.as_("Kari", "/parts rolle bekreft alle")
    out = await console.type("/parts rolle")
    assert "*Verneombud:* Ola" in out
    assert "*Tillitsvalgt:* Siri" in out
    assert "Venter" not in out


async def test_unknown_role_is_refused_and_nothing_stored(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    out = await console.as_("Kari", "/parts rolle astronaut")
    assert "«astronaut» er ikke en rolle jeg kjenner" in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(RoleAssignment)) == 0


async def test_roles_exercise_collects_answers_and_summarises_by_role(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    await console.as_("Kari leder")
    await console.type("/som Ola verneombud")
    await console.as_("Siri ansatt")
    out = await console.as_("Kari", "/parts roller")
    assert "== Snakke sammen om rollene ==" in out
    assert "Spørsmål til verneombud" in out
    head = message_number(out, "== Snakke sammen om rollene ==")
    question = message_number(out, "Spørsmål til verneombud")
    # Ola answers in the thread as a message; pointing at a reply in the thread works like in Slack.
    out = await console.as_("Ola", f"/tråd {question}", "Jeg tar opp saker fra de ansatte med leder.")
    assert "Takk! Svaret ditt er med i runden (verneombud)." in out
    assert "1 svar så langt" in out
    # Siri uses the answer button and the form: one question a line, an empty line skips a field.
    await console.type("/kanal")
    out = await console.as_("Siri", option_number(out, "Svar"))  # the updated head shows the buttons
    assert "== Svar om rollen din ==" in out
    assert "Du svarer som ansatt." in out
    out = await console.type(
        "Jeg sier fra når noe ikke fungerer.", "", "Vet ikke alltid hvem jeg skal gå til."
    )
    assert "Takk! Svaret ditt er med i runden (ansatt)." in out
    # Kari answers and closes.
    await console.as_("Kari", f"/tråd {head}", "Jeg har arbeidsgiveransvaret.")
    out = await console.type("/parts roller avslutt")
    assert "== Oppsummering: Snakke sammen om rollene ==" in out
    leader = out.index("*Leder* (1 svar)")
    safety = out.index("*Verneombud* (1 svar)")
    staff = out.index("*Ansatte* (1 svar)")
    assert leader < safety < staff
    assert "• Siri: Vet ikke alltid hvem jeg skal gå til." in out
    assert "Avsluttet · 3 svar" in out
    # An answer to a closed round gets a clear no, and nothing is stored.
    out = await console.as_("Ola", f"/tråd {head}", "Et svar for sent.")
    assert "Denne runden om rollene er avsluttet." in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(RolesAnswer)) == 4
        assert s.scalar(select(RolesRound.status)) == "closed"


async def test_roles_answer_needs_a_role_and_a_sane_length(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    out = await console.as_("Kari leder", "/parts roller")
    head = message_number(out, "== Snakke sammen om rollene ==")
    out = await console.as_("Per", f"/tråd {head}", "Jeg har ingen rolle ennå.")
    assert "Sett rollen din først" in out
    out = await console.as_("Kari", f"/tråd {head}", "x" * 2001)
    assert "Teksten er for lang (2001 tegn). Maks er 2000 tegn" in out
    out = await console.type("/parts roller")
    assert "Det er allerede en åpen runde om rollene." in out
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(RolesAnswer)) == 0
        assert s.scalar(select(func.count()).select_from(RolesRound)) == 1


async def test_only_starter_or_party_may_close(make_bot) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    await console.as_("Kari leder", "/parts roller")
    out = await console.as_("Siri ansatt", "/parts roller avslutt")
    assert "Bare den som startet runden" in out
    out = await console.as_("Kari", "/parts roller avslutt")
    assert "Ingen svar i denne runden." in out


async def test_state_survives_a_restart(make_bot) -> None:  # type: ignore[no-untyped-def]
    first = ConsoleDriver(make_bot())
    await first.start()
    await first.as_("Ola verneombud")
    second = ConsoleDriver(make_bot())
    out = await second.start()
    assert "Du er nå Ola." in out
    out = await second.type("/parts rolle")
    assert "*Verneombud:* Ola" in out


async def test_language_per_member_and_unit(make_bot) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    out = await console.as_("Kari", "/parts språk nn")
    assert "Eg skriv til deg på nynorsk frå no av." in out
    out = await console.type("/parts rolle astronaut")
    assert "er ikkje ei rolle eg kjenner" in out
    out = await console.as_("Ola", "/parts språk enhet en")
    assert "Det kan bare leder, verneombud eller tillitsvalgt gjøre." in out
    out = await console.as_("Ola verneombud", "/parts språk enhet en", "/parts fisk")
    assert "Solsikken barnehage now uses English." in out
    assert "I don't know the command “fisk”." in out
    out = await console.as_("Kari", "/parts fisk")  # Kari's own choice wins over the unit's
    assert "Eg kjenner ikkje kommandoen «fisk»." in out
    out = await console.type("/parts språk klingon")
    assert "«klingon» er ikkje eit språk eg kan." in out


async def test_language_without_argument_says_the_current_one(make_bot) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    out = await console.as_("Kari", "/parts språk")
    assert "Du får tekstene på bokmål." in out
