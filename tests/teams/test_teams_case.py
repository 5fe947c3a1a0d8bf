"""A whole problem case in Teams, from ``problem`` to an agreed plan: the reply chain carries the case,
cards carry the buttons and forms, personal chats carry what is private (forms, ballots, anonymous
questions)."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from sqlalchemy import select

from bot.storage.models import Member
from bot.toolbox.models import Case, Idea, Question
from bot.toolbox.models_plan import ActionItem, Plan, VoteDot
from tests.teams.fakes import (
    CHANNEL,
    Call,
    Person,
    TeamsDriver,
    card_submit,
    submit_data,
)

KARI = Person("kari", "Kari")  # leder
OLA = Person("ola", "Ola")  # verneombud
TONE = Person("tone", "Tone")  # tillitsvalgt
SIRI = Person("siri", "Siri")
PER = Person("per", "Per")
SEED = "Det går bort mye tid på å avklare hvem som skal gjøre hva og hvor."


def latest(teams: TeamsDriver, message_id: str) -> Call:
    """The newest version of a message: its last update, or the post that created it."""
    for call in reversed(teams.connector.delivered()):
        if call.returned == message_id or (call.method == "PUT" and call.activity_id == message_id):
            return call
    raise AssertionError(f"message {message_id} never sent")


def text_since(teams: TeamsDriver, mark: int, conversation: str | None = None) -> str:
    return "\n".join(
        c.text for c in teams.since(mark) if conversation is None or c.conversation == conversation
    )


async def press(
    teams: TeamsDriver,
    person: Person,
    card: Call,
    title: str,
    *,
    personal: bool = False,
    chat_of: Person | None = None,
    **inputs: Any,
) -> None:
    """``person`` presses the button ``title`` on the card ``card`` (in the channel or their chat; with
    ``chat_of``, a forged press from that person's chat)."""
    activity = card_submit(
        teams.service_url,
        person,
        submit_data(card, title),
        reply_to=card.returned or card.activity_id or "",
        thread=None if personal else _root(card),
        personal=personal,
        inputs=inputs,
        chat_of=chat_of,
    )
    assert await teams.send(activity) == 200


def _root(card: Call) -> str | None:
    conversation = card.conversation or ""
    if ";messageid=" in conversation:
        return conversation.partition(";messageid=")[2]
    return card.returned or card.activity_id


def form_in_chat(teams: TeamsDriver, mark: int, person: Person) -> Call:
    forms = [c for c in teams.since(mark) if c.conversation == person.chat and _has_inputs(c)]
    assert forms, text_since(teams, mark)
    return forms[-1]


def _has_inputs(call: Call) -> bool:
    return any(str(e.get("type", "")).startswith("Input.") for card in call.cards for e in card["body"])


async def test_a_whole_case_from_problem_to_an_agreed_plan(teams: TeamsDriver) -> None:
    for person, role in (
        (KARI, "leder"),
        (OLA, "verneombud"),
        (TONE, "tillitsvalgt"),
        (SIRI, "ansatt"),
        (PER, "ansatt"),
    ):
        await teams.say(person, f"rolle {role}")
    # Kari installed the app, so she set up the leder role; the representatives' claims wait for her.
    await teams.say(KARI, "rolle bekreft alle")

    # 1. Ola starts the case with a message to the bot: the head card opens a reply chain.
    mark = teams.mark()
    await teams.say(OLA, f"problem {SEED}")
    head = next(c for c in teams.since(mark) if c.method == "POST" and c.conversation == CHANNEL)
    assert "Sak #1" in head.text and "Definer riktig problem" in head.text
    root = head.returned
    assert root is not None
    chain = f"{CHANNEL};messageid={root}"
    assert "symptom" in text_since(teams, mark, chain)

    # 2. Define: staff answer in the reply chain; the bot asks why again, and finally for a sharper wording.
    # (The questions belong to the toolbox; the loop only follows them, so their order may change.)
    answers = iter(
        (
            "Et symptom. Morgenmøtet går med til beskjeder.",
            "Det finnes ingen skriftlig dagsplan.",
            "Planen lages muntlig i garderoben.",
            "Vi har ikke tid om morgenen.",
            "Vaktene begynner til ulik tid.",
            "Ingen har fått ansvaret for planen.",
            "Mer tid sammen med barna.",
            "Alle vet hva de skal gjøre når de kommer på jobb.",
            "Vi vil ha en rolig start på dagen.",
            "Alle har lest planen før de går inn til barna.",
        )
    )
    sharper = "Vi mangler en skriftlig dagsplan, så oppgaver avklares muntlig hele morgenen."
    asked = text_since(teams, 0, chain)
    for turn in range(12):
        wants_statement = "formulere **problemet**" in asked
        mark = teams.mark()
        await teams.say(SIRI if turn % 2 else PER, sharper if wants_statement else next(answers), thread=root)
        asked = text_since(teams, mark, chain)
        if wants_statement:
            break
    assert "Da har dere en problemformulering" in asked
    assert sharper in latest(teams, root).text  # the head card was updated in place

    # 3. Ola moves on with the button on the head card.
    mark = teams.mark()
    await press(teams, OLA, latest(teams, root), "Neste steg")
    assert "Steg 2" in text_since(teams, mark, chain)

    # 4. Blind spot: anonymous questions come privately – Per through the form in his personal chat,
    # Siri and Kari by writing to the bot there – and are released together, without names, once three
    # are in. Tone asks by name in the chain.
    mark = teams.mark()
    await press(teams, PER, latest(teams, root), "Still spørsmål")
    form = form_in_chat(teams, mark, PER)
    mark = teams.mark()
    await press(
        teams,
        PER,
        form,
        "Send",
        personal=True,
        **{"f:question": "Hvem eier dagsplanen?", "f:anonymous": "true"},
    )
    await teams.say_privately(SIRI, "blindsone anonym 1 Hvorfor skriver vi ikke planen kvelden før?")
    assert all(c.conversation != chain for c in teams.since(mark))  # nothing released yet
    await teams.say_privately(KARI, "blindsone anonym 1 Hva ville skjedd om ingen planla i det hele tatt?")
    [batch] = [c for c in teams.since(mark) if c.conversation == chain and "dagsplanen" in c.text]
    assert "kvelden før" in batch.text and "i det hele tatt" in batch.text
    assert not any(name in batch.text for name in ("Per", "Siri", "Kari"))
    await teams.say(TONE, "Hvem har egentlig ansvaret for dagsplanen i dag?", thread=root)

    # 5. Tone (tillitsvalgt) moves the case on by command in the chain; the idea hunt builds on ideas.
    mark = teams.mark()
    await teams.say(TONE, "neste", thread=root)
    assert "Idéjakt" in text_since(teams, mark, chain)
    # Without a mention (Teams delivers those with the ChannelMessage.Read.Group permission): an idea too.
    await teams.say(SIRI, "En tavle i garderoben med dagens oppgaver.", thread=root, mention=False)
    await teams.say(KARI, "Ja, og #1 med bilder, så barna også ser den.", thread=root)

    # 6. Dot voting: Ola opens it; Siri votes with the buttons on her private ballot, Per by numbers.
    mark = teams.mark()
    await teams.say(OLA, "stemme", thread=root)
    assert "#1" in text_since(teams, mark, chain)
    mark = teams.mark()
    await press(teams, SIRI, latest(teams, root), "Stem")
    ballot = [c for c in teams.since(mark) if c.conversation == SIRI.chat][-1]
    await press(teams, SIRI, ballot, "+ #2", personal=True)
    await teams.say(PER, "#1 #2", thread=root)

    # 7. Ola closes the vote: results in the chain, the case moves on to the plan.
    mark = teams.mark()
    await teams.say(OLA, "stemme lukk", thread=root)
    assert "#2" in text_since(teams, mark, chain)

    # 8. The plan: the goal through the form behind the head card's button, an obstacle by command, an
    # action with owner (a choice) and date through its form; then each party role approves on the card.
    mark = teams.mark()
    await press(teams, KARI, latest(teams, root), "Mål")
    goal_form = form_in_chat(teams, mark, KARI)
    await press(
        teams,
        KARI,
        goal_form,
        "Lagre",
        personal=True,
        **{"f:goal": "En skriftlig dagsplan hver morgen.", "f:outcome": "Rolige morgener med barna."},
    )
    await teams.say(OLA, "plan hindring Ingen tid om morgenen | tiltak Planen lages dagen før", thread=root)
    mark = teams.mark()
    await press(teams, TONE, latest(teams, root), "Tiltak")
    action_form = form_in_chat(teams, mark, TONE)
    owner = next(e for e in action_form.cards[0]["body"] if e.get("id") == "f:owner")
    kari_value = next(c["value"] for c in owner["choices"] if c["title"] == "Kari")
    await press(
        teams,
        TONE,
        action_form,
        "Lagre",
        personal=True,
        **{"f:text": "Lage en tavle for dagsplanen", "f:owner": kari_value, "f:due": "2026-12-04"},
    )
    # The representatives give their stance on the card ("Godkjenn" is "enig" for them), then the
    # leder decides with the same button.
    for person in (OLA, TONE, KARI):
        mark = teams.mark()
        await press(teams, person, latest(teams, root), "Godkjenn")
        assert any(c.conversation == person.chat for c in teams.since(mark)), text_since(teams, mark)
    assert "Lage en tavle for dagsplanen" in latest(teams, root).text
    assert "Besluttet av leder Kari etter drøfting med" in latest(teams, root).text
    assert "Partene er enige." in latest(teams, root).text

    with teams.bot.db.transaction() as session:
        case = session.scalar(select(Case))
        assert case is not None and case.statement == sharper and case.step == "agreed"
        plan = session.scalar(select(Plan))
        assert (
            plan is not None and plan.status == "agreed" and plan.goal == "En skriftlig dagsplan hver morgen."
        )
        [action] = session.scalars(select(ActionItem))
        owner = session.get(Member, action.owner_id)
        assert owner is not None and owner.display_name == "Kari" and action.due == date(2026, 12, 4)
        assert [
            (i.number, i.builds_on_id is not None)
            for i in session.scalars(select(Idea).order_by(Idea.number))
        ] == [
            (1, False),
            (2, True),
        ]
        questions = list(session.scalars(select(Question)))
        assert len(questions) == 4 and sum(q.anonymous for q in questions) == 3
        assert all(q.author_id is None for q in questions if q.anonymous)
        dots = list(session.scalars(select(VoteDot)))
        assert {d.member_id for d in dots} and len({d.member_id for d in dots}) == 2

    # Everything of the case stayed in its reply chain; the channel itself got only the head.
    case_posts = [c for c in teams.connector.delivered() if c.method == "POST" and c.conversation == CHANNEL]
    assert [c.returned for c in case_posts if "Sak #1" in c.text] == [root]


COMMANDS = (
    "hjelp",
    "rolle",
    "roller",
    "saker",
    "problem",
    "blindsone",
    "idejakt",
    "stemme",
    "plan",
    "høra",
    "kurs",
    "sjekkinn",
    "evaluering",
    "oppsummering",
    "språk",
)


@pytest.mark.parametrize("command", COMMANDS)
async def test_every_command_answers_in_teams_with_valid_cards(teams: TeamsDriver, command: str) -> None:
    """Each command's first answer (a card, a form, or a friendly refusal) renders as valid Adaptive Cards;
    the connector fixture runs every card through Microsoft's parser when the test ends."""
    await teams.say(KARI, "rolle leder")
    if command not in teams.bot.router.commands:
        pytest.skip(f"no command {command!r} registered")
    mark = teams.mark()
    await teams.say(KARI, command)
    sent = teams.since(mark)
    assert sent, f"no answer to {command!r}"
    assert not any("noe gikk galt" in c.text for c in sent), [c.text for c in sent]
