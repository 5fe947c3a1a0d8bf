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


async def test_help_in_a_channel_goes_to_the_personal_chat(teams: TeamsDriver) -> None:
    await teams.say(KARI, "hjelp")

    # Help is private: Teams has no ephemeral messages, so the bot opens a 1:1 chat and answers there.
    [create] = teams.connector.creates()
    assert create.body["members"] == [{"id": KARI.id}]
    assert create.body["channelData"] == {"tenant": {"id": TENANT}}
    [answer] = teams.connector.posts_to(KARI.chat)
    assert "Verktøykassen" in answer.text
    assert "**Verktøykassen**" in answer.text  # the neutral *bold* as Adaptive Card markdown
    assert answer.body["summary"].startswith("Partsbot")
    assert teams.connector.posts_to(CHANNEL) == []


async def test_mention_without_entities_still_counts(teams: TeamsDriver) -> None:
    activity = channel_message(teams.service_url, KARI, "hjelp")
    activity["entities"] = []  # hand-made or older clients: only the <at> tag in the text
    assert await teams.send(activity) == 200
    assert "Verktøykassen" in teams.connector.posts_to(KARI.chat)[0].text


async def test_in_a_channel_only_a_mention_makes_a_command(teams: TeamsDriver) -> None:
    """With the ChannelMessage.Read.Group permission Teams also delivers messages not addressed to the
    bot; "hjelp …" or "problem med bussen" written to colleagues must not start anything."""
    await teams.say(KARI, "hjelp", mention=False)
    await teams.say(KARI, "rolle leder", mention=False)
    assert teams.connector.calls == []
    assert count(teams, RoleAssignment.id) == 0


async def test_another_persons_mention_is_not_the_bots(teams: TeamsDriver) -> None:
    activity = channel_message(teams.service_url, KARI, "", mention=False)
    activity["text"] = "<at>Ola Hansen</at> hjelp meg med vaktlista"
    activity["entities"] = [{"type": "mention", "mentioned": OLA.account, "text": "<at>Ola Hansen</at>"}]
    assert await teams.send(activity) == 200
    assert teams.connector.calls == []


async def test_help_in_the_personal_chat_without_mention(teams: TeamsDriver) -> None:
    await teams.say_privately(KARI, "hjelp")

    assert teams.connector.creates() == []  # the personal chat is known from the message itself
    [answer] = teams.connector.posts_to(KARI.chat)
    assert "Verktøykassen" in answer.text


async def test_the_bot_mention_alone_is_the_empty_command(teams: TeamsDriver) -> None:
    await teams.say(KARI, "")

    [answer] = teams.connector.posts_to(KARI.chat)
    assert "Verktøykassen" in answer.text


async def test_rolle_leder_sets_the_role_and_tells_the_channel(teams: TeamsDriver) -> None:
    # Kari installed the app (tests/teams/conftest.py), so she may set up the leder role.
    await teams.say(KARI, "rolle leder")

    [confirmation] = teams.connector.posts_to(KARI.chat)
    assert "Du er nå leder" in confirmation.text
    [announcement] = teams.connector.posts_to(CHANNEL)
    assert announcement.activity_id is None  # a new post in the channel, not a reply
    assert "Kari Nordmann er satt opp som leder" in announcement.text
    assert count(teams, RoleAssignment.id) == 1


async def test_rolle_in_the_personal_chat_without_mention(teams: TeamsDriver) -> None:
    await teams.say(AISHA, "rolle ansatt")  # the channel makes Solsikken her unit
    mark = teams.mark()
    await teams.say_privately(AISHA, "rolle leder")

    # Aisha did not install the app: her claim waits, and the channel hears that she asked.
    [confirmation] = [c for c in teams.since(mark) if c.conversation == AISHA.chat]
    assert "Leder settes når barnehagen tas i bruk" in confirmation.text
    announcement = teams.connector.posts_to(CHANNEL)[-1]
    assert "Aisha Berg sier at hen er leder" in announcement.text  # the unit's channel hears it
    assert count(teams, RoleAssignment.id) == 1  # only "ansatt"


async def test_slack_habit_prefix_is_understood(teams: TeamsDriver) -> None:
    await teams.say(OLA, "/parts rolle ansatt")

    assert count(teams, RoleAssignment.id) == 1


async def test_words_that_are_no_command_are_a_message(teams: TeamsDriver) -> None:
    # A message to the bot in a channel that no thread claims gets no answer at all.
    await teams.say(OLA, "god morgen alle sammen")
    assert teams.connector.calls == []


async def test_roller_opens_a_reply_chain_and_an_answer_in_it_counts(teams: TeamsDriver) -> None:
    await teams.say(KARI, "rolle leder")
    mark = teams.mark()
    await teams.say(KARI, "roller")

    sent = teams.since(mark)
    head = next(c for c in sent if c.method == "POST" and c.conversation == CHANNEL)
    assert "Snakke sammen om rollene" in head.text
    root_id = head.returned
    chain = f"{CHANNEL};messageid={root_id}"
    questions = teams.connector.posts_to(chain)
    assert len(questions) == 5  # one question post per role, in the reply chain
    assert all(q.activity_id == root_id for q in questions)  # replies to the root message
    assert "Spørsmål til hovedverneombud" in "\n".join(q.text for q in questions)

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


async def test_emulator_conversations_are_personal(teams: TeamsDriver) -> None:
    """The Bot Framework Emulator sends no conversation type (local trials without authentication)."""
    activity = channel_message(teams.service_url, KARI, "", mention=False)
    activity.update(
        channelId="emulator",
        text="hjelp",
        conversation={"id": "emulator-conversation-1"},
        channelData={},
    )
    assert await teams.send(activity) == 200
    [answer] = teams.connector.posts_to("emulator-conversation-1")
    assert "Verktøykassen" in answer.text


@pytest.mark.parametrize(
    ("channel", "tenant"),
    [("webchat", "tenant-1"), ("directline", "tenant-1"), ("msteams", None)],
)
async def test_other_channels_and_tenantless_activities_are_ignored(
    teams: TeamsDriver, channel: str, tenant: str | None
) -> None:
    """Web Chat and Direct Line let the client pick ``from.id``; Teams always names its tenant (SEC-18)."""
    activity = channel_message(teams.service_url, KARI, "", mention=False)
    activity.update(channelId=channel, text="hjelp", conversation={"id": "other-1"}, channelData={})
    if tenant is None:
        activity["conversation"] = {"id": "other-1", "conversationType": "personal"}
    else:
        activity["channelData"] = {"tenant": {"id": tenant}}
    assert await teams.send(activity) == 200
    assert teams.connector.posts_to("other-1") == []
    assert count(teams, ConversationReference.id) == 0
