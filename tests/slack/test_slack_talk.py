"""Conversation stays conversation in Slack (issue 13, ux.md items 6–8): thread replies over signed events,
the receipt and its "Angre" button as an ephemeral message, chatter left alone, "ja og 2" linked, the chain
on the ballot, "Nei, men …" off it, and a blind-spot discussion that stays discussion."""

from __future__ import annotations

from sqlalchemy import select

from bot.toolbox.models import CaseVersion, Idea, Question
from bot.toolbox.models_plan import VoteOption
from tests.slack.fakes import SlackDriver
from tests.slack.test_slack_case import (
    _button,
    _command,
    _in_thread,
    _private,
    _reply,
    _since,
    _staffed,
    _text,
)

SEED = "Det går for mye tid til å avklare hvem som skal gjøre hva og hvor"
CAUSE = "Fordi ingen vet hvem som har ansvaret for å fordele oppgavene når styreren er på møte."


async def _start(slack: SlackDriver, text: str) -> str:
    mark = len(slack.fake.calls)
    await _command(slack, "UKARI", text)
    [head] = [c for c in _since(slack.fake, mark, "chat.postMessage") if not c.body.get("thread_ts")]
    return slack.fake.answer_ts(head)


async def test_chatter_is_left_alone_and_an_answer_comes_with_undo(slack: SlackDriver) -> None:
    fake = slack.fake
    await _staffed(slack)
    head_ts = await _start(slack, f"problem {SEED}")
    await _reply(
        slack, "USIRI", head_ts, "Det er nok et symptom. Vi bruker morgenen på å lete etter hverandre."
    )
    mark = len(fake.calls)
    await _reply(slack, "UPER", head_ts, CAUSE)
    [receipt] = _private(fake, mark, "UPER")
    assert "Lagt til som årsak 1 i sak #1." in _text(receipt)
    assert receipt.body.get("thread_ts") == head_ts  # in the thread, only Per sees it
    undo = _button(receipt, "case.undo", "Angre")
    # "Enig med Per 👍", "🎉🎉", "+1": no answer, no question, nothing stored.
    mark = len(fake.calls)
    for reply in ("Enig med Per 👍", "🎉🎉", "+1", "enig", "bra!"):
        await _reply(slack, "USIRI", head_ts, reply)
    await fake.settle()
    assert _since(fake, mark, "chat.postMessage") == [] and _private(fake, mark, "USIRI") == []
    # Siri cannot take back Per's answer; Per can.
    mark = len(fake.calls)
    response = await slack.click("case.undo", undo["value"], user="USIRI", thread_ts=head_ts, ephemeral=True)
    assert response.status == 200
    await slack.idle()
    assert "Bare den som skrev det, kan angre det." in _text(_private(fake, mark, "USIRI")[0])
    mark = len(fake.calls)
    await slack.click("case.undo", undo["value"], user="UPER", thread_ts=head_ts, ephemeral=True)
    await slack.idle()
    thread = _in_thread(fake, mark, head_ts)
    assert "trakk tilbake årsak 1." in thread and "Hva er *årsaken*?" in thread
    with slack.bot.db.transaction() as s:
        assert list(s.scalars(select(CaseVersion.kind).order_by(CaseVersion.n))) == ["statement", "symptom"]
    # A party strikes an answer; staff who did not start the case cannot.
    await _reply(slack, "UPER", head_ts, CAUSE)
    mark = len(fake.calls)
    await _command(slack, "USIRI", "stryk #1 årsak 1")
    assert "kan stryke noe fra saken" in _text(_private(fake, mark, "USIRI")[0])
    mark = len(fake.calls)
    await _command(slack, "UOLA", "stryk #1 årsak 1")
    assert "strøk årsak 1 fra saken" in _in_thread(fake, mark, head_ts)


async def test_yes_and_links_chains_reach_the_ballot_and_men_stays_off(slack: SlackDriver) -> None:
    fake = slack.fake
    await _staffed(slack)
    head_ts = await _start(slack, f"idejakt {SEED}")
    await _reply(
        slack, "USIRI", head_ts, "Ei stor tavle ved inngangen med bilder av de voksne og hvor de er i dag"
    )
    await _reply(slack, "UPER", head_ts, "Ja, og #1 – barna kan flytte bildene sine selv når de går ut")
    mark = len(fake.calls)
    await _reply(slack, "UNINA", head_ts, "ja og 2 så kan vikarene også se det med en gang")
    assert "Bygger på: #3 ← #2 ← #1" in _in_thread(fake, mark, head_ts)
    assert "Lagt til som idé #3 (bygger på #2) i sak #1." in _text(_private(fake, mark, "UNINA")[0])
    mark = len(fake.calls)
    await _reply(slack, "UPER", head_ts, "🎉🎉")
    await fake.settle()
    assert _since(fake, mark, "chat.postMessage") == []
    mark = len(fake.calls)
    await _reply(slack, "UOLA", head_ts, "Nei, men det blir for mye papir på veggen. Hva med en skjerm?")
    [reminder] = _private(fake, mark, "UOLA")
    assert "Husk regelen i idéjakten" in _text(reminder)
    assert _button(reminder, "ideas.rephrase", "Skriv om idéen")
    mark = len(fake.calls)
    await _command(slack, "UKARI", "stemme #1")
    thread = _in_thread(fake, mark, head_ts)
    assert "#3 ← #2 ← #1 «Ei stor tavle ved inngangen" in thread
    with slack.bot.db.transaction() as s:
        assert list(s.scalars(select(VoteOption.position).order_by(VoteOption.position))) == [1, 2, 3]
        assert s.scalar(select(Idea.blocking).where(Idea.number == 4)) is True


async def test_blind_spot_questions_are_discussed_without_becoming_questions(slack: SlackDriver) -> None:
    fake = slack.fake
    await _staffed(slack)
    head_ts = await _start(slack, f"blindsone {SEED}")
    mark = len(fake.calls)
    await _reply(
        slack, "UNINA", head_ts, "Ola, hva ser du som verneombud når det blir kaos i garderoben om morgenen?"
    )
    assert "Lagt til som spørsmål 1 i sak #1." in _text(_private(fake, mark, "UNINA")[0])
    # Ola answers, Per follows up: discussion, not new questions – and no answer from the bot.
    mark = len(fake.calls)
    await _reply(
        slack, "UOLA", head_ts, "Jeg ser at de nye vikarene står og venter uten å vite hvor de skal."
    )
    await _reply(slack, "UPER", head_ts, "Det stemmer, særlig på mandager.")
    await _reply(slack, "USIRI", head_ts, "👍")
    await fake.settle()
    assert _since(fake, mark, "chat.postMessage") == [] and fake.privates(since=mark) == []
    with slack.bot.db.transaction() as s:
        assert list(s.scalars(select(Question.text))) == [
            "Ola, hva ser du som verneombud når det blir kaos i garderoben om morgenen?"
        ]
