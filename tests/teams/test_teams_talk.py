"""Conversation stays conversation in Teams (issue 13, ux.md items 6–8): replies in the case's reply chain,
unmentioned as colleagues write them; the receipt with "Angre" in the author's personal chat; chatter left
alone; "JA! Og #2" linked; the chain on the ballot; a blind-spot discussion that stays discussion."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from bot.schema import metadata
from bot.storage.models import Member
from bot.toolbox.models import CaseVersion, Question
from bot.toolbox.models_plan import VoteOption
from tests.teams.fakes import BOT, CHANNEL, TEAM, TENANT, Person, TeamsDriver, _base
from tests.teams.test_teams_case import press, text_since

KARI = Person("kari", "Kari")  # leder (she added the app)
OLA = Person("ola", "Ola")
SIRI = Person("siri", "Siri")
PER = Person("per", "Per")
JONAS = Person("jonas", "Jonas")
SEED = "Det går for mye tid til å avklare hvem som skal gjøre hva og hvor"


async def _case(teams: TeamsDriver, command: str) -> tuple[str, str]:
    await teams.say(KARI, "rolle leder")
    for person in (OLA, SIRI, PER, JONAS):
        await teams.say(person, "rolle ansatt")
    mark = teams.mark()
    await teams.say(KARI, f"{command} {SEED}")
    head = next(c for c in teams.since(mark) if c.method == "POST" and c.conversation == CHANNEL)
    assert head.returned is not None
    return head.returned, f"{CHANNEL};messageid={head.returned}"


async def test_chatter_is_left_alone_and_the_author_undoes_in_the_personal_chat(teams: TeamsDriver) -> None:
    root, chain = await _case(teams, "problem")
    await teams.say(SIRI, "Det er nok et symptom. Vi bruker morgenen på å lete etter hverandre.", thread=root)
    mark = teams.mark()
    await teams.say(PER, "Fordi ingen vet hvem som fordeler oppgavene.", thread=root, mention=False)
    [receipt] = [c for c in teams.since(mark) if c.conversation == PER.chat]
    assert "Lagt til som årsak 1 i sak #1." in receipt.text
    mark = teams.mark()
    for reply in ("Enig med Per 👍", "🎉🎉", "+1", "bra!"):
        await teams.say(JONAS, reply, thread=root, mention=False)
    assert teams.since(mark) == []  # not a word: colleagues were talking
    mark = teams.mark()
    # Per's receipt is not Jonas's card: pressed in his own chat it was never sent there; forged as a press
    # in Per's chat (Teams would not send one), the handler still knows who wrote the cause.
    await press(teams, JONAS, receipt, "Angre", personal=True)
    assert "hører til en annen samtale" in text_since(teams, mark, JONAS.chat)
    mark = teams.mark()
    await press(teams, JONAS, receipt, "Angre", personal=True, chat_of=PER)
    assert [c.text for c in teams.since(mark)] == ["Bare den som skrev det, kan angre det."]
    mark = teams.mark()
    await press(teams, PER, receipt, "Angre", personal=True)
    assert "trakk tilbake årsak 1." in text_since(teams, mark, chain)
    with teams.bot.db.transaction() as s:
        assert list(s.scalars(select(CaseVersion.kind).order_by(CaseVersion.n))) == ["statement", "symptom"]


async def test_yes_and_links_and_the_chain_is_on_the_ballot(teams: TeamsDriver) -> None:
    root, chain = await _case(teams, "idejakt")
    await teams.say(SIRI, "Faste ansvarsområder per uke", thread=root, mention=False)
    await teams.say(PER, "Ja, og #1 med navn på tavla", thread=root, mention=False)
    mark = teams.mark()
    await teams.say(KARI, "JA! Og #2 – vi roterer ansvarsområdene hver mandag på personalmøtet", thread=root)
    assert "#3 ← #2 ← #1" in text_since(teams, mark, chain)
    mark = teams.mark()
    await teams.say(JONAS, "🎉🎉", thread=root, mention=False)
    assert teams.since(mark) == []
    mark = teams.mark()
    await teams.say(KARI, "stemme", thread=root)
    assert "#3 ← #2 ← #1 «Faste ansvarsområder per uke» + vi roterer ansvarsområdene" in text_since(
        teams, mark, chain
    )
    with teams.bot.db.transaction() as s:
        assert list(s.scalars(select(VoteOption.position).order_by(VoteOption.position))) == [1, 2, 3]


async def test_a_blind_spot_discussion_stays_discussion(teams: TeamsDriver) -> None:
    root, _ = await _case(teams, "blindsone")
    question = "Hvem bestemmer egentlig når Kari er på møte – er det pedagogisk leder?"
    await teams.say(SIRI, question, thread=root, mention=False)
    mark = teams.mark()
    await teams.say(
        OLA, "Det er pedagogisk leder på den avdelingen som har morgenvakt.", thread=root, mention=False
    )
    await teams.say(PER, "Enig, det står i rutinen.", thread=root, mention=False)
    assert teams.since(mark) == []
    with teams.bot.db.transaction() as s:
        assert list(s.scalars(select(Question.text))) == [question]


ANNE = Person("anne", "Anne Lie")


def _install_in_team(teams: TeamsDriver, person: Person) -> dict[str, Any]:
    """The conversation update Teams sends when ``person`` adds the app to the team (its General channel)."""
    activity = _base(
        teams.service_url,
        person,
        {"id": CHANNEL, "conversationType": "channel", "isGroup": True, "tenantId": TENANT},
    )
    activity.update(
        type="conversationUpdate",
        membersAdded=[BOT],
        channelData={"tenant": {"id": TENANT}, "team": {"id": TEAM, "name": "Solsikken"}},
    )
    return activity


def _stored_text(teams: TeamsDriver) -> str:
    """Every value in every table, as an operator reading the database would see them."""
    with teams.bot.db.transaction() as s:
        return "\n".join(
            str(row) for table in metadata().sorted_tables for row in s.execute(select(table)).all()
        )


async def test_installing_in_a_team_learns_its_members_so_a_first_direct_message_works(
    teams: TeamsDriver,
) -> None:
    people = (KARI, OLA, SIRI, PER, ANNE)
    teams.connector.roster[TEAM] = [p.roster_entry for p in people] + [{**BOT, "userRole": "bot"}]
    assert await teams.send(_install_in_team(teams, KARI)) == 200
    # Read page by page (the fake gives two at a time).
    assert teams.connector.roster_reads == [(TEAM, None), (TEAM, "2"), (TEAM, "4")]
    # Of what the roster says, only the Teams id and the name are kept – nothing else, anywhere.
    stored = _stored_text(teams)
    assert "Anne Lie" in stored and "29:anne" in stored
    for trace in ("solsikken.example", "aad-anne", "Anne',", "userRole", "28:partsbot-app-id', 'Partsbot"):
        assert trace not in stored, trace
    # Kari sets up the leder role and starts a case in the channel; nobody else has written anywhere.
    await teams.say(KARI, "rolle leder")
    mark = teams.mark()
    await teams.say(KARI, f"problem {SEED}")
    head = next(c for c in teams.since(mark) if c.method == "POST" and c.conversation == CHANNEL)
    chain = f"{CHANNEL};messageid={head.returned}"
    # Anne's very first message is in her personal chat: before, "Skriv en kommando i barnehagens kanal
    # først". Now she is a member of Solsikken and takes part from there.
    mark = teams.mark()
    await teams.say_privately(ANNE, "saker")
    assert "#1" in text_since(teams, mark, ANNE.chat) and "kanal først" not in text_since(teams, mark)
    mark = teams.mark()
    await teams.say_privately(ANNE, "#1 Et symptom. Vi leter etter hverandre hver morgen.")
    assert "Lagt til som svar på «symptom eller problem?» i sak #1." in text_since(teams, mark, ANNE.chat)
    assert "Anne Lie (i direktemelding): Et symptom." in text_since(teams, mark, chain)
    # Ola claims his role from his personal chat too, as his first message ever.
    mark = teams.mark()
    await teams.say_privately(OLA, "rolle verneombud")
    assert "velges av de ansatte" in text_since(teams, mark, OLA.chat)
    # A person erased with "slett meg" is gone, roster or not.
    await teams.say_privately(PER, "slett meg")
    confirm = [c for c in teams.connector.delivered() if c.conversation == PER.chat][-1]
    await press(teams, PER, confirm, "Ja, slett meg", personal=True)
    with teams.bot.db.transaction() as s:
        assert s.scalar(select(Member).where(Member.user_id == PER.id)) is None


async def test_someone_who_joins_the_team_later_is_learned_from_the_update(teams: TeamsDriver) -> None:
    teams.connector.roster[TEAM] = [KARI.roster_entry]
    assert await teams.send(_install_in_team(teams, KARI)) == 200
    joined = _install_in_team(teams, KARI)
    joined["membersAdded"] = [ANNE.account]
    assert await teams.send(joined) == 200
    mark = teams.mark()
    await teams.say_privately(ANNE, "saker")
    assert "Det er ingen åpne saker du kan se." in text_since(teams, mark, ANNE.chat)


async def test_without_a_roster_the_install_still_works(teams: TeamsDriver) -> None:
    # The Bot Connector answers 404 (a group chat has no team roster): logged, nothing learned, no harm.
    assert await teams.send(_install_in_team(teams, KARI)) == 200
    mark = teams.mark()
    await teams.say_privately(ANNE, "saker")
    assert "Skriv en kommando i barnehagens kanal først." in text_since(teams, mark, ANNE.chat)
    await teams.say(KARI, "rolle leder")  # the installer's right to set up the leder is kept
    assert "Du er nå leder" in text_since(teams, mark, KARI.chat)


async def test_a_direct_message_to_the_bot_always_gets_an_answer(teams: TeamsDriver) -> None:
    mark = teams.mark()
    await teams.say_privately(SIRI, "hei")
    assert "Hei! Her er det jeg kan hjelpe med." in text_since(teams, mark, SIRI.chat)
    mark = teams.mark()
    await teams.say_privately(SIRI, "Hvordan stiller jeg et anonymt spørsmål?")
    assert "Et anonymt spørsmål stiller du i steget «Finn blindsonen»" in text_since(teams, mark, SIRI.chat)
