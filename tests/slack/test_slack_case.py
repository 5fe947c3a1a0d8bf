"""A problem thread (case) in Slack, end to end: ``/parts problem`` posts the case head, the define step runs
in its thread (thread replies as answers, the head updated in place with ``chat.update``), the owner moves it
on with the head's button, the blind spot and the idea hunt follow in the same thread, and the message
shortcut "Lag problemtråd" opens a pre-filled modal that starts another case.

Rendering is generic: none of this needs case-specific Slack code."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import select

from bot.toolbox.models import Case, Idea, Question
from tests.slack.fakes import BOT_USER, CHANNEL, TEAM, Call, SlackDriver

SEED = "Det går bort mye tid på å avklare hvem som skal gjøre hva og hvor."


def _button(call: Call, action_id: str) -> dict[str, Any]:
    for block in call.body["blocks"]:
        if block["type"] == "actions":
            for element in block["elements"]:
                if element["action_id"].split("#")[0] == action_id:
                    return dict(element)
    raise AssertionError(f"no {action_id} button in {call.method}")


def _case(slack: SlackDriver, number: int = 1) -> Case:
    with slack.bot.db.transaction() as session:
        case = session.get(Case, number)
        assert case is not None
        session.expunge(case)
        return case


async def _staffed(slack: SlackDriver) -> None:
    for user, role in (
        ("UKARI", "leder"),
        ("UOLA", "verneombud"),
        ("UNINA", "tillitsvalgt"),
        ("USIRI", "ansatt"),
    ):
        await slack.command(f"rolle {role}", user=user)
    await slack.fake.wait_for("chat.postMessage", count=4)
    await slack.idle()


async def test_a_case_walks_the_toolbox_in_one_thread(slack: SlackDriver) -> None:
    fake = slack.fake
    await _staffed(slack)
    before = len(fake.of("chat.postMessage"))

    await slack.command(f"problem {SEED}", user="UOLA")
    posts = await fake.wait_for("chat.postMessage", count=before + 1)
    head = posts[before]
    head_ts = fake.answer_ts(head)
    assert head.body["channel"] == CHANNEL and not head.body.get("thread_ts")
    assert "Sak #1" in json.dumps(head.body["blocks"], ensure_ascii=False)
    await slack.idle()
    # The define step asks its first question in the case's thread.
    assert any(c.body.get("thread_ts") == head_ts for c in fake.of("chat.postMessage"))

    # Define: answers in the thread are stored as versions; the head is kept current in place.
    for user, text in (
        ("USIRI", "Et symptom. Morgenmøtet går med til beskjeder."),
        ("USIRI", "Det finnes ingen skriftlig dagsplan."),
    ):
        await slack.thread_reply(text, head_ts, user=user)
        await slack.idle()
    in_thread = [c for c in fake.of("chat.postMessage") if c.body.get("thread_ts") == head_ts]
    assert len(in_thread) >= 3  # the question, then a "why?" after each answer
    assert "hvorfor" in in_thread[-1].body["text"].lower()

    # The case owner moves the case on with the head's button (the head as last updated, or as posted).
    updates = [c for c in fake.of("chat.update") if c.body["ts"] == head_ts]
    current_head = updates[-1] if updates else head
    next_button = _button(current_head, "case.next")
    await slack.click(next_button["action_id"], next_button["value"], user="UOLA", message_ts=head_ts)
    await slack.idle()
    assert _case(slack).step == "blindspot"
    assert any(c.body["ts"] == head_ts for c in fake.of("chat.update"))

    # Blind spot: a question in the thread is kept with the case.
    await slack.thread_reply("Hvem har egentlig ansvaret for dagsplanen i dag?", head_ts, user="USIRI")
    await slack.idle()
    with slack.bot.db.transaction() as session:
        assert [q.text for q in session.scalars(select(Question))] == [
            "Hvem har egentlig ansvaret for dagsplanen i dag?"
        ]

    # Idea hunt: the leader moves on; ideas in the thread are numbered.
    updates = [c for c in fake.of("chat.update") if c.body["ts"] == head_ts]
    next_button = _button(updates[-1], "case.next")
    await slack.click(next_button["action_id"], next_button["value"], user="UKARI", message_ts=head_ts)
    await slack.idle()
    assert _case(slack).step == "ideas"
    await slack.thread_reply("En tavle i garderoben med dagens oppgaver.", head_ts, user="USIRI")
    await slack.thread_reply("Ja, og #1 med bilder, så barna også ser den.", head_ts, user="UKARI")
    await slack.idle()
    with slack.bot.db.transaction() as session:
        ideas = list(session.scalars(select(Idea).order_by(Idea.id)))
    assert len(ideas) == 2
    assert "garderoben" in "\n".join(fake.texts("chat.postMessage"))

    # The App Home lists the open case for someone in the kindergarten.
    await slack.event({"type": "app_home_opened", "user": "USIRI", "tab": "home", "event_ts": "1700000900.1"})
    [home] = await fake.wait_for("views.publish")
    home_text = json.dumps(home.body["view"], ensure_ascii=False)
    assert "#1" in home_text and "Idéjakt" in home_text

    # Nothing was refused by Slack along the way (the fake validates every payload at the end, too).
    assert all(c.status == 200 for c in fake.calls)


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


async def test_case_thread_ignores_the_bots_own_messages(slack: SlackDriver) -> None:
    await _staffed(slack)
    await slack.command(f"problem {SEED}", user="UOLA")
    await slack.idle()
    head_ts = slack.fake.answer_ts(slack.fake.of("chat.postMessage")[4])
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
