"""Roles are granted, never claimed – through the console chat.

A member who claims a party role sees and approves nothing until the leder confirms; conflicting roles
are refused; every change is in `/parts rolle historikk`; the words people use for roles are understood;
a confidential matter to the verneombud is invisible to the leader on every path.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from bot.chat.model import Action, Actor, Command, Place, Submission
from bot.storage.models import RoleAssignment
from bot.storage.models_roles import RoleClaim, RoleEvent
from bot.toolbox.models import Case
from bot.toolbox.models_matter import Matter, MatterNote
from tests.console_driver import ConsoleDriver
from tests.test_cli import run

PLACE = Place("console", "console", "personalet")


async def _unit(console: ConsoleDriver) -> None:
    """Kari sets up the unit as leder (the console's owner may, once); Siri starts a parties-only case."""
    await console.start()
    out = await console.as_("Kari", "/parts rolle leder")
    assert "Du er nå leder i Solsikken barnehage." in out
    await console.as_("Per", "/parts rolle ansatt")
    out = await console.as_("Siri", "/parts problem --parter Konflikt mellom to ansatte om turnus")
    assert "bare synlig for partene" in out


async def test_a_claimed_party_role_gives_nothing_until_the_leader_confirms(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await _unit(console)
    out = await console.as_("Per", "/parts rolle verneombud")
    assert "Rollen som verneombud velges av de ansatte, så leder (Kari) bekrefter den før den gjelder." in out
    assert "Per sier at hen er verneombud i Solsikken barnehage." in out  # announced to everyone
    assert "[direktemelding til Kari]" in out  # the leder is asked
    # Nothing changes for Per: no case, no list entry, no plan to approve, no history button.
    assert "Jeg finner ingen sak #1 som du har tilgang til." in await console.type("/parts problem #1")
    assert "Konflikt" not in await console.type("/parts saker")
    assert "Jeg finner ingen sak #1" in await console.type("/parts plan #1 godkjenn")
    # Claiming the employer side as well is refused (one person never stands for two parties).
    out = await console.type("/parts rolle leder")
    assert "Samme person kan ikke være både verneombud og leder i samme barnehage" in out
    # A second claimant of leder waits for a hand-over, even without a conflict.
    out = await console.as_("Anne", "/parts rolle leder")
    assert "Leder settes når barnehagen tas i bruk" in out
    assert "Konflikt" not in await console.type("/parts saker")
    with database.transaction() as s:
        assert sorted(s.scalars(select(RoleClaim.role))) == ["leder", "verneombud"]
        assert (
            s.scalar(select(func.count()).select_from(RoleAssignment).where(RoleAssignment.role == "leder"))
            == 1
        )
    # Kari confirms; the parties are told that someone new sees parties-only cases.
    out = await console.as_("Kari", "/parts rolle bekreft Per")
    assert "Per er nå verneombud i Solsikken barnehage (bekreftet av Kari)." in out
    assert "[direktemelding til Per]" in out
    out = await console.as_("Per", "/parts problem #1")
    assert "Konflikt mellom to ansatte om turnus" in out
    # The claim of leder by Anne cannot be "confirmed" by a colleague: it is handed over.
    assert "Leder bekreftes ikke av en kollega" in await console.as_("Kari", "/parts rolle bekreft Anne")
    out = await console.type("/parts rolle gi leder Anne")
    assert "Kari har overlatt rollen som leder til Anne i Solsikken barnehage." in out
    out = await console.as_("Kari", "/parts problem #1")
    assert "Jeg finner ingen sak #1 som du har tilgang til." in out  # access went with the role
    out = await console.type("/parts rolle historikk")
    for line in (
        "Kari ble leder (satt opp av administrator)",
        "Per ba om å bli verneombud",
        "Kari bekreftet Per som verneombud",
        "Anne ba om å bli leder",
        "Kari overlot rollen som leder",
        "Anne ble leder (overlatt av forrige)",
    ):
        assert line in out, line
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(RoleEvent)) >= 7


async def test_declined_and_objected_claims_and_several_representatives(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await _unit(console)
    await console.as_("Ola", "/parts rolle verneombod")  # nynorsk word
    await console.as_("Nina", "/parts rolle tillitsvalgt")
    await console.as_("Siri", "/parts rolle tillitsvald")  # a second union's representative: normal
    await console.as_("Anne", "/parts rolle hovedverneombud")
    out = await console.as_("Per", "/parts rolle innsigelse Ola")
    assert "Innsigelsen din mot Ola som verneombud er notert, og leder har fått beskjed." in out
    assert "[direktemelding til Kari]" in out
    out = await console.as_("Kari", "/parts rolle avslå Ola")
    assert "Ola ble ikke bekreftet som verneombud i Solsikken barnehage." in out
    await console.type("/parts rolle bekreft alle")
    out = await console.type("/parts rolle")
    assert "*Tillitsvalgt:* Nina, Siri" in out
    assert "*Hovedverneombud:* Anne" in out
    assert "*Verneombud:* ingen ennå" in out
    assert "Per hadde innsigelse mot Ola som verneombud" in await console.type("/parts rolle historikk")
    # The buttons in the leder's direct message check the claim's own unit: a used one is gone.
    with database.transaction() as s:
        assert s.scalar(select(func.count()).select_from(RoleClaim)) == 0


async def test_role_words_typos_and_staff_titles(make_bot) -> None:  # type: ignore[no-untyped-def]
    console = ConsoleDriver(make_bot())
    await console.start()
    out = await console.as_("Kari", "/parts rolle dagleg leiar")
    assert "Du er nå leder i Solsikken barnehage." in out
    out = await console.as_("Berit", "/parts rolle pedagogisk leder")
    assert (
        "Pedagogisk leder (og barnehagelærer, fagarbeider, assistent) er viktige roller på de ansattes side."
        in out
    )
    assert "«vernombud» er ikke en rolle jeg kjenner. Mente du «verneombud»?" in await console.type(
        "/parts rolle vernombud"
    )
    out = await console.type("/parts rolle ansatt")
    assert "Notert: du er med som ansatt i Solsikken barnehage." in out
    assert "Berit er nå ansatt" not in out and "#" not in out.split("Notert")[0].split("›")[-1]
    out = await console.type("/parts språk nn", "/parts rolle styrar")
    assert "Leiar vert sett når barnehagen tek Partsbot i bruk" in out


async def test_a_confidential_matter_reaches_the_verneombud_and_never_the_leader(make_bot, database) -> None:  # type: ignore[no-untyped-def]
    bot = make_bot()
    console = ConsoleDriver(bot)
    await _unit(console)
    await console.type("/som Ola verneombud")  # the local operator's grant
    out = await console.as_("Per", "/parts til verneombudet Jeg blir snakket nedsettende til av en kollega.")
    assert "Sendt fortrolig til verneombud (Ola) som F1." in out
    assert "[direktemelding til Ola]" in out
    assert "Kari" not in out.split("Sendt fortrolig")[0]
    assert "[direktemelding til Kari]" not in out
    # The leader: commands with the number, the list, a forged button and a forged form all answer
    # like a matter that does not exist.
    out = await console.as_("Kari", "/parts fortrolig svar 1 Hva gjelder det?", "/parts fortrolig")
    assert "Jeg finner ingen fortrolig sak 1 som du har tilgang til." in out
    assert "Ingen fortrolige saker." in out
    kari = Actor("kari", "Kari")
    forged = [
        Action(kari, PLACE, "matter.reply", "1"),
        Action(kari, PLACE, "matter.raise", "1"),
        Submission(kari, PLACE, "matter.reply", {"text": "Fortell"}, context="1"),
        Command(kari, PLACE, "fortrolig", "partene 1"),
    ]
    for event in forged:
        effects = await bot.handle(event)
        texts = " ".join(str(e) for e in effects)
        assert "nedsettende" not in texts
        assert "Jeg finner ingen fortrolig sak" in texts, event
    # Other staff do not see it either.
    assert "Jeg finner ingen fortrolig sak" in await console.as_("Anne", "/parts fortrolig svar 1 Hei")
    # Ola answers privately; Per sees the answer.
    out = await console.as_("Ola", "/parts fortrolig svar 1 Takk for at du sa fra. Kan vi snakke i morgen?")
    assert "[direktemelding til Per]" in out
    assert "[direktemelding til Kari]" not in out
    # Ola brings it to the trio: a parties-only case started by Ola, without Per's name.
    out = await console.type(
        "/parts fortrolig partene 1 En ansatt opplever nedsettende omtale fra en kollega."
    )
    assert "har tatt opp denne saken på vegne av en ansatt (navnet holdes tilbake)" in out
    assert "[direktemelding til Kari]" in out  # the leader now sees the case – not the matter
    case_out = out[out.index("[direktemelding til Kari]") :]
    assert "Per" not in case_out.split("[direktemelding til", 2)[1]
    with database.transaction() as s:
        case = s.scalar(select(Case).where(Case.parties_only.is_(True), Case.title.like("En ansatt%")))
        assert case is not None
        assert s.scalar(select(Matter.case_id)) == case.id
        assert s.scalar(select(func.count()).select_from(MatterNote)) == 1
    out = await console.as_("Per", "/parts fortrolig")
    assert "F1 til verneombud" in out and f"→ #{case.id}" in out
    out = await console.as_("Kari", f"/parts problem #{case.id}")
    assert "Startet av: Ola (verneombud)" in out
    assert "Per" not in out.split("›", 1)[1]


def test_the_operator_grants_and_revokes_with_the_command_line(tmp_path: Path) -> None:
    """`partsbot roles grant|revoke` – the real console script, on the file the console chat uses."""
    assert run(["chat"], tmp_path, "/som Per\n/parts rolle ansatt\n").returncode == 0
    where = ["console", "console", "personalet"]
    granted = run(["roles", "grant", *where, "u-kari", "styrer", "--name", "Kari"], tmp_path, "")
    assert granted.returncode == 0, granted.stderr
    assert "granted leder to u-kari in personalet" in granted.stdout
    conflict = run(["roles", "grant", *where, "u-kari", "verneombud"], tmp_path, "")
    assert conflict.returncode == 1
    assert "Samme person kan ikke være både leder og verneombud" in conflict.stderr
    assert (
        run(["roles", "grant", *where, "u-ola", "verneombud", "--name", "Ola"], tmp_path, "").returncode == 0
    )
    unknown = run(["roles", "grant", "console", "console", "nowhere", "u-ola", "leder"], tmp_path, "")
    assert unknown.returncode == 1 and "Finner ingen barnehage med kanalen nowhere" in unknown.stderr
    revoked = run(["roles", "revoke", *where, "u-ola", "verneombud"], tmp_path, "")
    assert revoked.returncode == 0 and "revoked verneombud from u-ola" in revoked.stdout
    out = run(["chat"], tmp_path, "/parts rolle\n/parts rolle historikk\n").stdout
    assert "*Leder:* Kari" in out and "*Verneombud:* ingen ennå" in out
    assert "Kari ble leder (satt av driftsansvarlig)" in out
    assert "Ola er ikke lenger verneombud (satt av driftsansvarlig)" in out
    # The announcements waited in the outbox and reached the channel when the chat ran.
    assert "Kari er satt opp som leder" in out
