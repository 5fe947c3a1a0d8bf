"""A whole problem case in Slack, end to end over signed requests to ``/slack/events``: ``/parts problem``
posts the case head, every step runs in its thread (thread replies, buttons on the head, modals, slash
commands with ``#1``), the head is kept current with ``chat.update``, and the case ends in a plan approved
by leder, verneombud and tillitsvalgt. The message shortcut "Lag problemtråd" starts a case too.

Rendering is generic: none of this needs case-specific Slack code. Every Block Kit payload that reached the
fake is validated (here at the end, and again by the fixture)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, date, datetime
from typing import Any

import pytest
from sqlalchemy import String, Text, select

from bot.schema import metadata
from bot.storage.models import Member
from bot.toolbox.models import Case, CaseParticipant, Idea, PendingQuestion, Question
from bot.toolbox.models_plan import ActionItem, Approval, Obstacle, Plan, Stance, Vote, VoteDot
from tests.conftest import FakeClock
from tests.slack.fakes import BOT_USER, CHANNEL, TEAM, Call, FakeSlack, SlackDriver

SEED = "Det går bort mye tid på å avklare hvem som skal gjøre hva og hvor."
SHARPER = "Vi mangler en skriftlig dagsplan, så oppgaver avklares muntlig hele morgenen."
# The define step's answers, taken in the order the bot asks (the loop follows its questions).
ANSWERS = (
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
# Anonymous questions through the modal, one per asker; released together once the third is in.
ANONYMOUS = {
    "USIRI": "Hvem eier dagsplanen?",
    "UPER": "Hvorfor skriver vi ikke planen kvelden før?",
    "UKARI": "Hva ville skjedd om ingen planla i det hele tatt?",
}
# Everything that could tell who asked: display names (from users.info) and Slack ids or mentions.
ASKER_TRACES = ("Siri", "Per", "Kari", "USIRI", "UPER", "UKARI", "<@")
GOAL = "En skriftlig dagsplan hver morgen."
ACTION = "Lage en tavle for dagsplanen"


# --------------------------------------------------------------------------------------------------
# Reading what reached the fake
# --------------------------------------------------------------------------------------------------


def _text(call: Call) -> str:
    """What a person reads in one call: the notification text and the blocks (or the view)."""
    shown = call.body.get("blocks") or (call.body.get("view") or {}).get("blocks") or []
    return str(call.body.get("text", "")) + "\n" + json.dumps(shown, ensure_ascii=False)


def _since(fake: FakeSlack, mark: int, method: str | None = None) -> list[Call]:
    return [c for c in fake.calls[mark:] if c.status == 200 and (method is None or c.method == method)]


def _in_thread(fake: FakeSlack, mark: int, head_ts: str) -> str:
    return "\n".join(
        _text(c) for c in _since(fake, mark, "chat.postMessage") if c.body.get("thread_ts") == head_ts
    )


def _private(fake: FakeSlack, mark: int, user: str) -> list[Call]:
    return fake.privates(user, since=mark)


def _head(fake: FakeSlack, head_ts: str) -> Call:
    """The head as people see it now: its last ``chat.update``, or the post that created it."""
    updates = [c for c in fake.of("chat.update") if c.body["ts"] == head_ts]
    if updates:
        return updates[-1]
    return next(c for c in fake.of("chat.postMessage") if c.response.get("ts") == head_ts)


def _button(call: Call, action_id: str, label: str | None = None) -> dict[str, Any]:
    for block in call.body["blocks"]:
        if block["type"] == "actions":
            for element in block["elements"]:
                if element["action_id"].split("#")[0] != action_id:
                    continue
                if label is None or element["text"]["text"] == label:
                    return dict(element)
    raise AssertionError(f"no {action_id} {label or ''} button in {call.method}: {_text(call)[:400]}")


def _buttons(call: Call) -> set[str]:
    return {
        element["action_id"].split("#")[0]
        for block in call.body["blocks"]
        if block["type"] == "actions"
        for element in block["elements"]
    }


def _case(slack: SlackDriver, number: int = 1) -> Case:
    with slack.bot.db.transaction() as session:
        case = session.get(Case, number)
        assert case is not None
        session.expunge(case)
        return case


def _utc(moment: datetime | None) -> datetime | None:
    """A stored time as aware UTC (SQLite hands back naive UTC values)."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=UTC)


def _member_id(slack: SlackDriver, user: str) -> int:
    with slack.bot.db.transaction() as session:
        found = session.scalar(select(Member.id).where(Member.user_id == user))
        assert found is not None
        return found


# --------------------------------------------------------------------------------------------------
# Doing what people do
# --------------------------------------------------------------------------------------------------


async def _staffed(slack: SlackDriver) -> None:
    for user, role in (
        ("UKARI", "leder"),
        ("UOLA", "verneombud"),
        ("UNINA", "tillitsvalgt"),
        ("USIRI", "ansatt"),
        ("UPER", "ansatt"),
    ):
        await slack.command(f"rolle {role}", user=user)
    await slack.idle()
    # Kari is a workspace admin and set up the leder role; she confirms the representatives' claims.
    await slack.command("rolle bekreft alle")
    await slack.idle()


async def _press(slack: SlackDriver, user: str, head_ts: str, action_id: str) -> None:
    """``user`` presses a button on the case head as it is now."""
    button = _button(_head(slack.fake, head_ts), action_id)
    response = await slack.click(button["action_id"], button["value"], user=user, message_ts=head_ts)
    assert response.status == 200
    await slack.idle()


async def _modal(
    slack: SlackDriver, user: str, head_ts: str, action_id: str, callback_id: str
) -> dict[str, Any]:
    """``user`` presses a head button that opens a modal; returns the view Slack was asked to open."""
    mark = len(slack.fake.calls)
    await _press(slack, user, head_ts, action_id)
    [opened] = _since(slack.fake, mark, "views.open")
    view: dict[str, Any] = opened.body["view"]
    assert view["type"] == "modal" and view["callback_id"] == callback_id
    return view


async def _submit(slack: SlackDriver, user: str, view: dict[str, Any], values: dict[str, str]) -> None:
    response = await slack.submit(view, values, user=user)
    assert response.status == 200
    assert (await response.text()) == ""  # an empty ack closes the modal; answers follow as messages
    await slack.idle()


async def _command(slack: SlackDriver, user: str, text: str) -> None:
    response = await slack.command(text, user=user)
    assert response.status == 200
    await slack.idle()


async def _reply(slack: SlackDriver, user: str, head_ts: str, text: str) -> None:
    response = await slack.thread_reply(text, head_ts, user=user)
    assert response.status == 200
    await slack.idle()


async def _plus(slack: SlackDriver, user: str, ballot: Call, number: int) -> Call:
    """``user`` presses "+ #number" on their private ballot; returns the ballot sent back."""
    button = _button(ballot, "vote.set", f"+ #{number}")
    mark = len(slack.fake.calls)
    response = await slack.click(
        button["action_id"],
        button["value"],
        user=user,
        message_ts=str(ballot.response["message_ts"]),
        thread_ts=ballot.body.get("thread_ts"),
        ephemeral=True,
    )
    assert response.status == 200
    await slack.idle()
    [answer] = _private(slack.fake, mark, user)
    # A click on an ephemeral message (no ``message`` in the payload): the answer stays in the thread.
    assert answer.body.get("thread_ts") == ballot.body.get("thread_ts")
    return answer


# --------------------------------------------------------------------------------------------------
# The whole case
# --------------------------------------------------------------------------------------------------


async def test_a_whole_case_from_problem_to_an_agreed_plan(
    slack: SlackDriver, clock: FakeClock, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    fake = slack.fake
    await _staffed(slack)

    # 1. Ola (verneombud) starts the case: one head in the channel, the first question in its thread.
    mark = len(fake.calls)
    await _command(slack, "UOLA", f"problem {SEED}")
    [head] = [c for c in _since(fake, mark, "chat.postMessage") if not c.body.get("thread_ts")]
    head_ts = fake.answer_ts(head)
    assert head.body["channel"] == CHANNEL
    assert "Sak #1" in _text(head) and "Definer riktig problem" in _text(head)
    assert "symptom" in _in_thread(fake, mark, head_ts)

    # 2. Define: staff answer in the thread; the bot asks "why?" again, and finally for a sharper wording.
    answers = iter(ANSWERS)
    asked = _in_thread(fake, mark, head_ts)
    for turn in range(12):
        wants_statement = "formulere *problemet*" in asked
        mark = len(fake.calls)
        await _reply(
            slack, "UKARI" if turn % 2 else "USIRI", head_ts, SHARPER if wants_statement else next(answers)
        )
        asked = _in_thread(fake, mark, head_ts)
        assert asked, f"no question after answer {turn + 1}"
        if wants_statement:
            break
    assert "Da har dere en problemformulering" in asked
    assert SHARPER in _text(_head(fake, head_ts))  # the head was updated in place
    assert fake.of("chat.update")[-1].body["channel"] == CHANNEL

    # 3. Ola moves on with the head's button: the blind spot opens in the thread.
    mark = len(fake.calls)
    await _press(slack, "UOLA", head_ts, "case.next")
    assert _case(slack).step == "blindspot"
    assert "Steg 2" in _in_thread(fake, mark, head_ts)
    assert "blindspot.ask" in _buttons(_head(fake, head_ts))

    # 4. Blind spot: three people ask anonymously through the modal behind "Still spørsmål". Each gets a
    # private receipt without the text; nothing is shown until the third is in, then all three together.
    # They come minutes apart (the injected clock moves), but the batch carries only its release time.
    mark = len(fake.calls)
    for number, (user, question) in enumerate(ANONYMOUS.items(), start=1):
        clock.advance(minutes=7)
        view = await _modal(slack, user, head_ts, "blindspot.ask", "blindspot.ask")
        assert {b["element"]["type"] for b in view["blocks"] if b["type"] == "input"} == {
            "plain_text_input",
            "checkboxes",
        }
        asked_at = len(fake.calls)
        await _submit(slack, user, view, {"question": question, "anonymous": "true"})
        [receipt] = _private(fake, asked_at, user)
        assert receipt.body.get("thread_ts") == head_ts
        assert "anonymt" in _text(receipt) and question not in _text(receipt)
        if number < len(ANONYMOUS):
            assert _in_thread(fake, mark, head_ts) == "", "an anonymous question was shown before its batch"
    released_at = clock()
    [batch] = [c for c in _since(fake, mark, "chat.postMessage") if c.body.get("thread_ts") == head_ts]
    batch_text = _text(batch)
    assert "Anonyme spørsmål" in batch_text
    assert all(question in batch_text for question in ANONYMOUS.values())
    assert not [trace for trace in ASKER_TRACES if trace in batch_text], batch_text
    # Per has only asked anonymously so far: he is not listed among the case's people.
    with slack.bot.db.transaction() as session:
        people = set(session.scalars(select(CaseParticipant.member_id).where(CaseParticipant.case_id == 1)))
    assert _member_id(slack, "UPER") not in people and "Per" not in _text(_head(fake, head_ts))
    # Nina asks by name in the thread: kept with her name.
    await _reply(slack, "UNINA", head_ts, "Hvem har egentlig ansvaret for dagsplanen i dag?")
    assert "4 spørsmål, 3 av dem anonyme" in _text(_head(fake, head_ts))

    # 5. Nina (tillitsvalgt) moves the case on by command; ideas come in the thread and through the modal.
    mark = len(fake.calls)
    await _command(slack, "UNINA", "neste #1")
    assert _case(slack).step == "ideas"
    assert "Idéjakt" in _in_thread(fake, mark, head_ts)
    await _reply(slack, "USIRI", head_ts, "En tavle i garderoben med dagens oppgaver.")
    await _reply(slack, "UKARI", head_ts, "Ja, og #1 med bilder, så barna også ser den.")
    view = await _modal(slack, "UPER", head_ts, "ideas.add", "ideas.add")
    await _submit(slack, "UPER", view, {"idea": "Faste ansvarsområder per uke."})
    assert "Faste ansvarsområder" in _text(_head(fake, head_ts))

    # 6. Dot voting: Ola (the case owner) opens it by command. Siri votes with the + buttons on her private
    # ballot (block actions on an ephemeral message), Per by numbers in the thread.
    mark = len(fake.calls)
    await _command(slack, "UOLA", "stemme #1")
    assert _case(slack).step == "vote"
    opened = _in_thread(fake, mark, head_ts)
    assert "#1" in opened and "#3" in opened and "skjult" in opened
    mark = len(fake.calls)
    await _press(slack, "USIRI", head_ts, "vote.ballot")
    [ballot] = _private(fake, mark, "USIRI")
    assert ballot.body.get("thread_ts") == head_ts and "3 av 3 igjen" in _text(ballot)
    ballot = await _plus(slack, "USIRI", ballot, 2)
    ballot = await _plus(slack, "USIRI", ballot, 2)
    ballot = await _plus(slack, "USIRI", ballot, 3)
    assert "0 av 3 igjen" in _text(ballot)
    await _reply(slack, "UPER", head_ts, "#1 #2")
    assert "2 har stemt så langt" in _text(_head(fake, head_ts))
    # Results stay hidden while the vote is open: no tally anywhere, in public or in private.
    assert not [c for c in fake.calls if "prikker i alt" in _text(c) or "Resultat av" in _text(c)]
    # Siri (ansatt, not the owner) cannot close it.
    mark = len(fake.calls)
    await _command(slack, "USIRI", "stemme #1 lukk")
    [refused] = _private(fake, mark, "USIRI")
    assert "Bare den som startet saken" in _text(refused)
    assert _case(slack).step == "vote"

    # 7. Ola, the owner, closes it: the results in the thread, and the case moves on to the plan.
    mark = len(fake.calls)
    await _command(slack, "UOLA", "stemme #1 lukk")
    results = _in_thread(fake, mark, head_ts)
    assert "Resultat av prikkstemmingen" in results and "2 stemte, 5 prikker i alt" in results
    assert results.index("#2") < results.index("#1")  # three dots on #2 come first
    assert _case(slack).step == "plan"
    assert {"plan.goal", "plan.obstacle", "plan.action", "plan.approve"} <= _buttons(_head(fake, head_ts))

    # 8. The plan: Kari sets the goal through the modal, Ola adds an obstacle by command, Nina an action
    # with owner (a select) and due date (a date picker) through the modal, Per one by command.
    view = await _modal(slack, "UKARI", head_ts, "plan.goal", "plan.goal")
    await _submit(slack, "UKARI", view, {"goal": GOAL, "outcome": "Rolige morgener med barna."})
    await _command(slack, "UOLA", "plan #1 hindring Ingen tid om morgenen | tiltak Planen lages dagen før")
    view = await _modal(slack, "UNINA", head_ts, "plan.action", "plan.action")
    [owner] = [b["element"] for b in view["blocks"] if b.get("block_id") == "owner"]
    [due] = [b["element"] for b in view["blocks"] if b.get("block_id") == "due"]
    assert owner["type"] == "static_select" and due["type"] == "datepicker"
    kari = next(o["value"] for o in owner["options"] if o["text"]["text"] == "Kari")
    await _submit(slack, "UNINA", view, {"text": ACTION, "owner": kari, "due": "2026-12-04"})
    # Per (staff) may not change the plan (SEC-16); Ola, one of the parties, adds his action.
    mark = len(fake.calls)
    await _command(slack, "UPER", "plan #1 tiltak Siri fredag Henge opp tavla")
    assert "Planen endres av den som startet saken" in _text(_private(fake, mark, "UPER")[0])
    await _command(slack, "UOLA", "plan #1 tiltak Siri fredag Henge opp tavla")
    plan_now = _text(_head(fake, head_ts))
    assert GOAL in plan_now and "Ingen tid om morgenen" in plan_now and ACTION in plan_now
    assert "Henge opp tavla" in plan_now

    # 9. The same button means support for staff, a stance for the representatives and the decision for the
    # leder; each is thanked privately and told in the thread.
    mark = len(fake.calls)
    await _press(slack, "USIRI", head_ts, "plan.approve")
    assert _private(fake, mark, "USIRI")
    assert "Siri støtter planen." in _in_thread(fake, mark, head_ts)
    for user, said in (
        ("UOLA", "Ola er enig i planen (verneombud)."),
        ("UNINA", "Nina er enig i planen (tillitsvalgt)."),
        ("UKARI", "Kari har besluttet planen."),
    ):
        assert _case(slack).step == "plan"
        mark = len(fake.calls)
        await _press(slack, user, head_ts, "plan.approve")
        assert _private(fake, mark, user), f"no thanks to {user}"
        assert said in _in_thread(fake, mark, head_ts)

    # 10. Decided: the thread says so, and the head – the same message, updated with chat.update – too.
    agreed = _in_thread(fake, mark, head_ts)
    assert "Planen er besluttet" in agreed and ACTION in agreed
    final = _head(fake, head_ts)
    assert final.method == "chat.update" and final.body["channel"] == CHANNEL
    assert "6/6" in _text(final)
    assert (
        "Besluttet av leder Kari etter drøfting med* verneombud Ola: enig; tillitsvalgt Nina: enig"
        in _text(final)
    )
    assert "Partene er enige." in _text(final)
    assert "plan.approve" not in _buttons(final) and "case.next" not in _buttons(final)
    # Only the head went to the channel itself; everything else of the case stayed in its thread.
    case_posts = [
        c for c in fake.of("chat.postMessage") if "Sak #1" in _text(c) and not c.body.get("thread_ts")
    ]
    assert case_posts == [head]

    ids = {user: _member_id(slack, user) for user in ("UKARI", "UOLA", "UNINA", "USIRI")}
    with slack.bot.db.transaction() as session:
        case = session.get(Case, 1)
        assert case is not None and case.statement == SHARPER and case.step == "agreed"
        assert case.closed_at is None  # its actions are followed until it closes with the answers
        plan = session.scalar(select(Plan))
        assert plan is not None and plan.status == "agreed" and plan.goal == GOAL
        # The decision is the leder's alone; the representatives' stances are kept beside it.
        assert [
            a.role for a in session.scalars(select(Approval).where(Approval.revision == plan.revision))
        ] == ["leder"]
        assert {
            (s.role, s.stance)
            for s in session.scalars(select(Stance).where(Stance.revision == plan.revision))
        } == {("verneombud", "enig"), ("tillitsvalgt", "enig"), ("ansatt", "stoette")}
        assert [o.text for o in session.scalars(select(Obstacle))] == ["Ingen tid om morgenen"]
        actions = {a.text: a for a in session.scalars(select(ActionItem))}
        assert actions[ACTION].owner_id == ids["UKARI"] and actions[ACTION].due == date(2026, 12, 4)
        assert actions["Henge opp tavla"].owner_id == ids["USIRI"]
        assert actions["Henge opp tavla"].due == date(2026, 11, 27)  # the Friday after the injected Tuesday
        ideas = list(session.scalars(select(Idea).order_by(Idea.number)))
        assert [(i.number, i.builds_on_id is not None) for i in ideas] == [(1, False), (2, True), (3, False)]
        vote = session.scalar(select(Vote))
        assert vote is not None and vote.status == "closed" and vote.closed_by_id == ids["UOLA"]
        dots = list(session.scalars(select(VoteDot)))
        assert sorted(sum(d.member_id == m for d in dots) for m in {d.member_id for d in dots}) == [2, 3]

        # The anonymous questions: released in one batch, without author, none left in the pool.
        questions = list(session.scalars(select(Question)))
        anonymous = [q for q in questions if q.anonymous]
        assert sorted(q.text for q in anonymous) == sorted(ANONYMOUS.values())
        assert all(q.author_id is None and q.batch == 1 for q in anonymous)
        assert {_utc(q.created_at) for q in anonymous} == {released_at}  # not each submission's time
        assert {_utc(q.released_at) for q in anonymous} == {released_at}
        assert [q.author_id for q in questions if not q.anonymous] == [ids["UNINA"]]
        assert session.scalar(select(PendingQuestion)) is None

    # No row anywhere in the database holds an anonymous question's text next to a person: the only rows
    # with the text are the released questions, and those have no author.
    _assert_only_in_released_questions(slack, list(ANONYMOUS.values()))
    # Nor did the log keep them.
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert not [q for q in ANONYMOUS.values() if q in logged]

    # The App Home shows Kari the action she owns.
    await slack.event({"type": "app_home_opened", "user": "UKARI", "tab": "home", "event_ts": "1700000900.1"})
    [home] = await fake.wait_for("views.publish")
    assert ACTION in _text(home)

    # Nothing was refused by Slack along the way, and every Block Kit payload is valid.
    assert all(c.status == 200 for c in fake.calls)
    fake.assert_valid_block_kit()


def _assert_only_in_released_questions(slack: SlackDriver, texts: list[str]) -> None:
    with slack.bot.db.transaction() as session:
        for table in metadata().sorted_tables:
            columns = [c for c in table.columns if isinstance(c.type, String | Text)]
            if not columns:
                continue
            for row in session.execute(select(table)).mappings():
                found = [t for t in texts if any(t in str(row[c.name] or "") for c in columns)]
                if not found:
                    continue
                assert table.name == Question.__tablename__, f"{found} stored in {table.name}: {dict(row)}"
                assert row["author_id"] is None and row["anonymous"], dict(row)


# --------------------------------------------------------------------------------------------------
# Other ways in
# --------------------------------------------------------------------------------------------------


async def test_message_shortcut_starts_a_case_from_a_message(slack: SlackDriver) -> None:
    fake = slack.fake
    await _staffed(slack)
    before = len(fake.of("chat.postMessage"))
    payload = {
        "type": "message_action",
        "callback_id": "create_case_from_message",
        "team": {"id": TEAM, "domain": "bjornebo"},
        "user": {"id": "UOLA", "username": "ola", "name": "ola", "team_id": TEAM},
        "channel": {"id": CHANNEL, "name": "bjornebo-ansatte"},
        "message": {"type": "message", "user": "USIRI", "ts": "1700000700.000001", "text": SEED},
        "message_ts": "1700000700.000001",
        "response_url": f"{fake.url}/response/shortcut",
        "trigger_id": slack.trigger(),
        "token": "legacy",
        "api_app_id": "A0PARTS",
    }
    response = await slack.interactive(payload)
    assert response.status == 200
    [opened] = await fake.wait_for("views.open")
    view = opened.body["view"]
    assert view["callback_id"] == "case.start"
    assert SEED in json.dumps(view, ensure_ascii=False)  # the message's text is the starting point

    await slack.submit(view, {"statement": SEED, "parties": ""}, user="UOLA")
    posts = await fake.wait_for("chat.postMessage", count=before + 1)
    assert "Sak #1" in json.dumps(posts[before].body["blocks"], ensure_ascii=False)
    assert _case(slack).statement == SEED
    assert not _case(slack).parties_only


async def test_case_thread_ignores_the_bots_own_messages(slack: SlackDriver) -> None:
    await _staffed(slack)
    mark = len(slack.fake.calls)
    await _command(slack, "UOLA", f"problem {SEED}")
    [head] = [c for c in _since(slack.fake, mark, "chat.postMessage") if not c.body.get("thread_ts")]
    head_ts = slack.fake.answer_ts(head)
    calls = len(slack.fake.calls)
    await slack.event(
        {
            "type": "message",
            "channel": CHANNEL,
            "user": BOT_USER,
            "bot_id": "BPARTSBOT",
            "text": "Et spørsmål fra boten",
            "ts": "1700000800.000001",
            "thread_ts": head_ts,
            "channel_type": "channel",
        }
    )
    await slack.idle()
    await slack.fake.settle()
    assert len(slack.fake.calls) == calls
