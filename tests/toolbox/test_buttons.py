"""A case run from buttons and forms in the console (issue 13, "fewer commands, more buttons"): the plan's
"Si din mening" form gives a stance with a note, support or a comment, or the decision – through the same
handler and the same access policy as the typed words."""

from __future__ import annotations

from sqlalchemy import select

from bot.toolbox.models import Case
from bot.toolbox.models_plan import Stance
from tests.console_driver import ConsoleDriver, message_number, option_number

# The clock fixture says Tuesday 24 November 2026, 10:30 in Oslo.


async def _plan_ready(console: ConsoleDriver) -> str:
    """A case in the plan step with a goal and an action, so stances can be given; returns the output."""
    await console.start()
    for who in ("Kari leder", "Siri tillitsvalgt", "Per ansatt", "Ola verneombud"):
        await console.type(f"/som {who}")
    out = await console.type("/parts idejakt For mye tid går med til å avklare hvem som gjør hva og hvor")
    thread = message_number(out, "== Sak #1:")
    await console.type(f"/tråd {thread}", "Felles tavle ved inngangen", "/parts plan")
    return await console.type(
        "/parts plan mål Alle vet hvem som gjør hva når dagen starter",
        "/parts plan tiltak Per fredag Lage tavle ved inngangen",
    )


async def test_have_your_say_form_gives_each_role_its_own_choices(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    out = await _plan_ready(console)
    # Siri (tillitsvalgt): a stance. "Uenig" without a reason is asked again at once, the choice kept.
    out = await console.as_("Siri", option_number(console.transcript, "Si din mening"))
    assert "== Si din mening om planen ==" in out
    assert "[1] Enig" in out and "[2] Enig med merknad" in out and "[3] Uenig" in out
    assert "Jeg støtter planen" not in out and "Beslutt planen" not in out
    out = await console.type("uenig", "")
    assert "Skriv hvorfor du er uenig." in out and "» Merknad eller kommentar" in out
    out = await console.type("Tavla alene løser ikke morgenmøtet.")
    assert "⚠️ Siri er uenig i planen (tillitsvalgt): «Tavla alene løser ikke morgenmøtet.»" in out
    # Per (ansatt): support or a comment, never a representative's stance.
    out = await console.as_("Per", option_number(console.transcript, "Si din mening"))
    assert "[1] Jeg støtter planen" in out and "[2] Kommentar" in out and "Uenig" not in out
    out = await console.type("Kommentar", "Fint om vikarene også får vite om tavla.")
    assert "💬 Per kommenterer planen: «Fint om vikarene også får vite om tavla.»" in out
    # Kari (leder) decides from the same form; Ola has not said his word, so she is told whom she waits for.
    out = await console.as_("Kari", option_number(console.transcript, "Si din mening"))
    assert "[1] Beslutt planen" in out
    out = await console.type("1", "")
    assert "Disse har ikke sagt sitt ennå: verneombud Ola." in out
    out = await console.as_("Ola", option_number(console.transcript, "Si din mening"))
    out = await console.type("enig", "")
    assert "✅ Ola er enig i planen (verneombud)." in out
    out = await console.as_("Kari", option_number(console.transcript, "Godkjenn"))
    assert "✅ Kari har besluttet planen." in out
    with database.transaction() as s:
        stances = {(st.role, st.stance, st.note) for st in s.scalars(select(Stance))}
        case = s.get(Case, 1)
    assert case is not None and case.step == "agreed"
    assert stances == {
        ("tillitsvalgt", "uenig", "Tavla alene løser ikke morgenmøtet."),
        ("ansatt", "kommentar", "Fint om vikarene også får vite om tavla."),
        ("verneombud", "enig", ""),
    }


async def test_a_stale_have_your_say_button_names_the_new_version(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    out = await _plan_ready(console)
    stale = option_number(out, "Si din mening")
    await console.as_("Ola", "/parts plan tiltak Siri 1.12. Evaluere ordningen")
    out = await console.as_("Siri", stale)
    assert "Planen er endret siden du så den." in out
    assert "== Si din mening om planen ==" not in out
