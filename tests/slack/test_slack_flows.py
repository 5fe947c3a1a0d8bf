"""Partsbot over Slack's HTTP entry point: signed slash commands, thread replies, buttons and modals reach the
handlers, and their answers reach the (fake) Slack Web API as valid Block Kit."""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import func, select

from bot.storage.models import RoleAssignment, RolesAnswer
from tests.slack.fakes import BOT_TOKEN, CHANNEL, SlackDriver


async def test_help_is_acknowledged_at_once_and_answered_privately(slack: SlackDriver) -> None:
    response = await slack.command("hjelp")
    assert response.status == 200
    # The private answer is the acknowledgement itself: at once, seen only by the person (ephemeral),
    # nothing echoed into the channel and no Web API call or response_url of its own.
    body = await response.json()
    assert body["response_type"] == "ephemeral"
    assert "/parts" in body["text"] + json.dumps(body["blocks"])
    [answer] = slack.fake.privates()
    assert answer.method == "ack" and answer.user == "UKARI"
    await slack.idle()
    assert slack.fake.of("chat.postMessage") == []
    assert slack.fake.of("chat.postEphemeral") == []
    assert slack.fake.of("response_url") == []
    slack.fake.assert_valid_block_kit()


async def test_setting_a_role_confirms_privately_and_announces_in_the_channel(slack: SlackDriver) -> None:
    await slack.command("rolle leder")

    [confirmation] = await slack.fake.wait_for_private()
    [announcement] = await slack.fake.wait_for("chat.postMessage")
    assert confirmation.user == "UKARI"
    assert announcement.token == BOT_TOKEN
    assert announcement.body["channel"] == CHANNEL
    assert "thread_ts" not in announcement.body or not announcement.body["thread_ts"]
    # The display name comes from users.info, not from the slash command's user_name.
    assert "Kari" in announcement.body["text"]
    with slack.bot.db.transaction() as session:
        assert session.scalar(select(RoleAssignment.role)) == "leder"


async def test_unknown_command_gets_a_friendly_private_answer(slack: SlackDriver) -> None:
    await slack.command("flytt fjellet")
    await slack.fake.wait_for_private()
    assert "flytt" in slack.fake.private_texts()[0]


async def test_roles_exercise_runs_in_a_thread(slack: SlackDriver) -> None:
    fake = slack.fake
    await slack.command("rolle leder")
    await fake.wait_for("chat.postMessage")
    await slack.command("roller")

    # The head message, then the five roles' questions in its thread.
    posts = await fake.wait_for("chat.postMessage", count=7)
    head = posts[1]
    head_ts = fake.answer_ts(head)
    in_thread = [c for c in posts[2:] if c.body.get("thread_ts") == head_ts]
    assert len(in_thread) == 5

    # A reply in the thread is an answer; the head is updated in place with the new count.
    await slack.thread_reply("Jeg sørger for at vi har tid til å snakke sammen.", head_ts)
    [update] = await fake.wait_for("chat.update")
    assert update.body["ts"] == head_ts
    assert update.body["channel"] == CHANNEL
    await fake.wait_for_private(count=2)  # "takk" after the role confirmation
    with slack.bot.db.transaction() as session:
        assert session.scalar(select(func.count()).select_from(RolesAnswer)) == 1


async def test_button_opens_a_modal_and_the_submission_is_stored(slack: SlackDriver) -> None:
    fake = slack.fake
    # Kari (a workspace admin) sets up the leder role; Ola's claim waits until she confirms it.
    await slack.command("rolle leder")
    await slack.command("rolle verneombud", user="UOLA")
    await slack.idle()
    await slack.command("rolle bekreft Ola")
    await slack.idle()
    before = len(fake.of("chat.postMessage"))
    await slack.command("roller", user="UOLA")
    posts = await fake.wait_for("chat.postMessage", count=before + 6)  # the head and five roles' questions
    head = posts[before]
    head_ts = fake.answer_ts(head)
    answer_button = _button(head.body["blocks"], "roles.answer")

    response = await slack.click("roles.answer", answer_button["value"], user="UOLA", message_ts=head_ts)
    assert response.status == 200
    [opened] = await fake.wait_for("views.open")
    view = opened.body["view"]
    assert opened.body["trigger_id"].startswith("trigger.")
    assert view["type"] == "modal" and view["callback_id"] == "roles.answer"
    assert len(view["title"]["text"]) <= 24

    response = await slack.submit(
        view, {"do": "Jeg følger opp HMS-rundene.", "expect": "", "meet": ""}, user="UOLA"
    )
    assert response.status == 200
    assert (await response.text()) == ""  # an empty ack closes the modal
    await fake.wait_for("chat.update")
    with slack.bot.db.transaction() as session:
        answer = session.scalar(select(RolesAnswer))
        assert answer is not None
        assert (answer.question, answer.role) == ("do", "verneombud")


async def test_closing_the_round_posts_the_summary_in_the_thread(slack: SlackDriver) -> None:
    fake = slack.fake
    await slack.command("rolle leder")
    await slack.command("roller")
    posts = await fake.wait_for("chat.postMessage", count=7)  # announcement, head, five roles' questions
    head_ts = fake.answer_ts(posts[1])
    await slack.thread_reply("Vi må bli flinkere til å gi hverandre beskjed.", head_ts)
    await fake.wait_for("chat.update")

    close = _button(posts[1].body["blocks"], "roles.close")
    await slack.click("roles.close", close["value"], message_ts=head_ts)
    summary = await fake.wait_for("chat.postMessage", count=8)
    assert summary[-1].body["thread_ts"] == head_ts
    assert "flinkere" in fake.texts("chat.postMessage")[-1]
    await fake.wait_for("chat.update", count=2)


async def test_app_home_shows_my_roles(slack: SlackDriver) -> None:
    async def home() -> str:
        before = len(slack.fake.of("views.publish"))
        await slack.event(
            {"type": "app_home_opened", "user": "UNINA", "channel": "DNINA", "tab": "home", "event_ts": "1.1"}
        )
        published = (await slack.fake.wait_for("views.publish", count=before + 1))[-1]
        assert published.body["user_id"] == "UNINA"
        view = published.body["view"]
        assert view["type"] == "home"
        return json.dumps(view, ensure_ascii=False)

    await slack.command("rolle leder")
    await slack.command("rolle tillitsvalgt", user="UNINA")
    await slack.idle()
    # The rendered roles line itself, not a word that the fallback text also contains (code.md A-6).
    text = await home()
    assert f"• {CHANNEL}: ingen rolle ennå" in text  # the unit (named after its channel until renamed)
    assert "venter på bekreftelse fra leder: tillitsvalgt" in text
    await slack.command("rolle bekreft Nina")
    await slack.idle()
    text = await home()
    assert f"• {CHANNEL}: tillitsvalgt" in text
    assert "venter på bekreftelse" not in text


async def test_app_home_for_someone_new_explains_how_to_start(slack: SlackDriver) -> None:
    await slack.event({"type": "app_home_opened", "user": "UNEW", "tab": "home", "event_ts": "1700000000.2"})
    [published] = await slack.fake.wait_for("views.publish")
    assert "/parts" in json.dumps(published.body["view"], ensure_ascii=False)


async def test_mention_in_a_channel_is_a_command_and_chatter_is_ignored(slack: SlackDriver) -> None:
    await slack.event(
        {
            "type": "message",
            "channel": CHANNEL,
            "user": "UKARI",
            "text": "God morgen alle sammen!",
            "ts": "1700000200.000001",
            "channel_type": "channel",
        }
    )
    await slack.event(
        {
            "type": "message",
            "channel": CHANNEL,
            "user": "UKARI",
            "text": "<@UPARTSBOT> hjelp",
            "ts": "1700000200.000002",
            "channel_type": "channel",
        }
    )
    await slack.fake.wait_for("chat.postEphemeral")
    await slack.idle()
    assert len(slack.fake.of("chat.postEphemeral")) == 1


async def test_direct_message_to_the_bot_reaches_the_router(slack: SlackDriver) -> None:
    response = await slack.event(
        {
            "type": "message",
            "channel": "DKARI",
            "user": "UKARI",
            "text": "hei",
            "ts": "1700000300.000001",
            "channel_type": "im",
        }
    )
    assert response.status == 200
    await slack.idle()  # a direct message always gets an answer: the help, to Kari only
    assert slack.fake.of("chat.postMessage") == []
    [help_text] = slack.fake.private_texts()
    assert "Hei! Her er det jeg kan hjelpe med." in help_text


def _button(blocks: list[dict[str, Any]], action_id: str) -> dict[str, str]:
    for block in blocks:
        if block.get("type") == "actions":
            for element in block["elements"]:
                if element["action_id"].split("#")[0] == action_id:
                    return dict(element)
    raise AssertionError(f"no button {action_id} in {blocks}")
