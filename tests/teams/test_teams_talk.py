"""Conversation stays conversation in Teams (issue 13, ux.md items 6–8): replies in the case's reply chain,
unmentioned as colleagues write them; the receipt with "Angre" in the author's personal chat; chatter left
alone; "JA! Og #2" linked; the chain on the ballot; a blind-spot discussion that stays discussion."""

from __future__ import annotations

from sqlalchemy import select

from bot.toolbox.models import CaseVersion, Question
from bot.toolbox.models_plan import VoteOption
from tests.teams.fakes import CHANNEL, Person, TeamsDriver
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
    await press(teams, JONAS, receipt, "Angre", personal=True)
    assert "Bare den som skrev det, kan angre det." in text_since(teams, mark, JONAS.chat)
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
