"""Teams end to end: Activities in over HTTP, what the bot sent read back from the fake Bot Connector."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.storage.models import ConversationReference, RoleAssignment, RolesAnswer
from tests.teams.fakes import AISHA, CHANNEL, KARI, OLA, TENANT, TeamsDriver, channel_message


def count(teams: TeamsDriver, column: Any) -> int:
    with teams.bot.db.transaction() as session:
        return int(session.scalar(select(func.count(column))) or 0)


@pytest.mark.parametrize("mention", [True, False])
async def test_help_in_a_channel_goes_to_the_personal_chat(teams: TeamsDriver, mention: bool) -> None:
    await teams.say(KARI, "hjelp", mention=mention)

    # Help is private: Teams has no ephemeral messages, so the bot opens a 1:1 chat and answers there.
    [create] = teams.connector.creates()
    assert create.body["members"] == [{"id": KARI.id}]
    assert create.body["channelData"] == {"tenant": {"id": TENANT}}
    [answer] = teams.connector.posts_to(KARI.chat)
    assert "Verktøykassen" in answer.text
    assert "**Verktøykassen**" in answer.text  # the neutral *bold* as Adaptive Card markdown
    assert answer.body["summary"].startswith("Partsbot")
    assert teams.connector.posts_to(CHANNEL) == []


async def test_help_in_the_personal_chat_without_mention(teams: TeamsDriver) -> None:
    await teams.say_privately(KARI, "hjelp")

    assert teams.connector.creates() == []  # the personal chat is known from the message itself
    [answer] = teams.connector.posts_to(KARI.chat)
    assert "Verktøykassen" in answer.text


async def test_the_bot_mention_alone_is_the_empty_command(teams: TeamsDriver) -> None:
    await teams.say(KARI, "")

    [answer] = teams.connector.posts_to(KARI.chat)
    assert "Verktøykassen" in answer.text


@pytest.mark.parametrize("mention", [True, False])
async def test_rolle_leder_sets_the_role_and_tells_the_channel(teams: TeamsDriver, mention: bool) -> None:
    await teams.say(AISHA, "rolle leder", mention=mention)

    [confirmation] = teams.connector.posts_to(AISHA.chat)
    assert "leder" in confirmation.text
    [announcement] = teams.connector.posts_to(CHANNEL)
    assert announcement.activity_id is None  # a new post in the channel, not a reply
    assert "Aisha Berg er nå leder" in announcement.text
    assert count(teams, RoleAssignment.id) == 1


async def test_slack_habit_prefix_is_understood(teams: TeamsDriver) -> None:
    await teams.say(OLA, "/parts rolle ansatt")

    assert count(teams, RoleAssignment.id) == 1


async def test_an_unknown_word_is_an_unknown_command_only_when_it_is_one(teams: TeamsDriver) -> None:
    # A plain message in a channel that no thread claims is chatter: no answer at all.
    await teams.say(OLA, "god morgen alle sammen")
    assert teams.connector.calls == []


async def test_roller_opens_a_reply_chain_and_an_answer_in_it_counts(teams: TeamsDriver) -> None:
    await teams.say(KARI, "rolle verneombud")
    mark = teams.mark()
    await teams.say(KARI, "roller")

    sent = teams.since(mark)
    head = next(c for c in sent if c.method == "POST" and c.conversation == CHANNEL)
    assert "Snakke sammen om rollene" in head.text
    root_id = head.returned
    chain = f"{CHANNEL};messageid={root_id}"
    questions = teams.connector.posts_to(chain)
    assert len(questions) == 4  # one question post per role, in the reply chain
    assert all(q.activity_id == root_id for q in questions)  # replies to the root message
    assert "Spørsmål til verneombud" in "\n".join(q.text for q in questions)

    mark = teams.mark()
    await teams.say(KARI, "Jeg passer på at vi melder avvik.", thread=root_id)

    assert count(teams, RolesAnswer.id) == 1
    [update] = [c for c in teams.since(mark) if c.method == "PUT"]
    assert update.conversation == CHANNEL and update.activity_id == root_id
    assert "1 svar" in update.text
    thanks = [c for c in teams.since(mark) if c.conversation == KARI.chat]
    assert thanks and "Takk" in thanks[0].text


async def test_every_activity_refreshes_the_stored_reference(teams: TeamsDriver) -> None:
    await teams.say(KARI, "rolle ansatt")
    await teams.say(OLA, "rolle ansatt")
    await teams.say_privately(OLA, "hjelp")

    with teams.bot.db.transaction() as session:
        rows: dict[str, Any] = {r.scope: r.data for r in session.scalars(select(ConversationReference))}
    channel = rows[f"channel:{CHANNEL}"]
    assert channel["serviceUrl"] == teams.service_url
    assert channel["conversation"]["id"] == CHANNEL  # without ;messageid=
    assert "user" not in channel and "activityId" not in channel
    assert rows[f"user:{OLA.id}"]["conversation"]["id"] == OLA.chat
    assert rows[f"user:{KARI.id}"]["conversation"]["id"] == KARI.chat  # created for the private answer


async def test_unknown_activity_type_is_ignored_with_a_log_line(
    teams: TeamsDriver, caplog: pytest.LogCaptureFixture
) -> None:
    activity = channel_message(teams.service_url, KARI, "hjelp")
    activity["type"] = "somethingNew"
    with caplog.at_level(logging.INFO, logger="bot.adapters.teams"):
        status = await teams.send(activity)

    assert status == 200
    assert teams.connector.calls == []
    assert "ignoring Teams activity of type 'somethingNew'" in caplog.text


async def test_conversation_update_stores_the_reference_and_says_nothing(
    teams: TeamsDriver, caplog: pytest.LogCaptureFixture
) -> None:
    activity = channel_message(teams.service_url, KARI, "")
    activity.update(type="conversationUpdate", membersAdded=[{"id": "28:partsbot-app-id"}])
    del activity["text"]
    with caplog.at_level(logging.INFO, logger="bot.adapters.teams"):
        assert await teams.send(activity) == 200

    assert teams.connector.calls == []
    assert "Partsbot was added" in caplog.text
    assert count(teams, ConversationReference.id) == 1


@pytest.mark.parametrize(
    ("body", "content_type", "status"),
    [
        ("not json", "application/json", 400),
        ('{"text": "no type"}', "application/json", 400),
        ("[1, 2]", "application/json", 400),
        ('{"type": "message"}', "text/plain", 415),
    ],
)
async def test_requests_that_are_not_activities(
    teams: TeamsDriver, body: str, content_type: str, status: int
) -> None:
    response = await teams.client.post("/api/messages", data=body, headers={"Content-Type": content_type})
    assert response.status == status
    assert count(teams, ConversationReference.id) == 0
