"""A fake Slack Web API and a driver that talks to the real Partsbot server like Slack does, over 127.0.0.1.

``fake_slack`` is an aiohttp server on port 0 that records every Web API call as ``(method, body)`` and
answers like Slack does for what Partsbot uses; switches make a method answer 429 (with ``Retry-After``) or
500 for a while. ``slack_server`` starts the real application from :func:`bot.web.build_app` with the Slack
adapter pointed at the fake (``SLACK_API_URL``), and sends correctly signed requests to it.

Every Block Kit payload the bot sends is checked against slack_sdk's models and Slack's limits when the test
ends, so no test can pass while sending something Slack would refuse.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, urlencode

from aiohttp import ClientResponse, WSMsgType, web
from aiohttp.test_utils import TestClient
from slack_sdk.models.blocks import Block
from slack_sdk.models.views import View
from slack_sdk.signature import SignatureVerifier

from bot.adapters.slack.app import SlackWebAdapter
from bot.core import Partsbot

SIGNING_SECRET = "test-signing-secret-0123456789abcdef"
BOT_TOKEN = "xoxb-test-token"
INSTALLED_TOKEN = "xoxb-installed-token"
TEAM = "T0KINDER"
BOT_USER = "UPARTSBOT"
BOT_ID = "BPARTSBOT"
CHANNEL = "C0BJORNE"  # the kindergarten's channel
# An "ack" is a slash command's answer in its acknowledgement (HTTP response body or Socket Mode payload).
PRIVATE = ("chat.postEphemeral", "response_url", "ack")
WAIT = 15.0  # upper bound for background work to reach the fake (generous: CI machines are busy)


@dataclass
class Call:
    method: str
    body: dict[str, Any]
    token: str
    status: int
    at: float = field(default_factory=time.monotonic)
    response: dict[str, Any] = field(default_factory=dict)
    path: str = ""
    user: str = ""  # whom a private answer is for (chat.postEphemeral's user, a response_url's owner)


@dataclass
class Fault:
    status: int
    times: int
    retry_after: int | None = None


class FakeSlack:
    """The Slack Web API as far as Partsbot uses it."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self.faults: dict[str, Fault] = {}
        self.url = ""
        self._ts = itertools.count(1)
        self._files = itertools.count(1)
        self.sockets: list[web.WebSocketResponse] = []
        self.socket_messages: list[dict[str, Any]] = []
        self.installed_team = {"id": "T0NEWKIDS", "name": "Eventyrskogen barnehage"}
        # response_url id → the person whose command or click it belongs to
        self.response_owners: dict[str, str] = {}
        # Socket Mode envelope id → the person whose command it carries
        self.envelope_owners: dict[str, str] = {}
        # users.info says these are workspace admins (may set up a unit's leder; bot/grants.py).
        self.admins: set[str] = {"UKARI"}

    # Switches ----------------------------------------------------------------------------------------

    def record_ack(self, status: int, content_type: str, raw: bytes, user: str) -> None:
        """A command's answer in its acknowledgement is a private answer like any other."""
        if status != 200 or content_type != "application/json" or not raw:
            return
        body = json.loads(raw)
        if body.get("text") or body.get("blocks"):
            self.calls.append(Call("ack", body, "", 200, user=user))

    def fail(self, method: str, status: int, times: int = 1, retry_after: int | None = None) -> None:
        """The next ``times`` calls of ``method`` (or "*" for all chat/views/files methods) get ``status``."""
        self.faults[method] = Fault(status, times, retry_after)

    def heal(self) -> None:
        self.faults.clear()

    # Queries -----------------------------------------------------------------------------------------

    def of(self, method: str, ok_only: bool = True) -> list[Call]:
        return [c for c in self.calls if c.method == method and (c.status == 200 or not ok_only)]

    async def wait_for(
        self,
        method: str,
        count: int = 1,
        where: Callable[[Call], bool] | None = None,
        within: float = WAIT,
    ) -> list[Call]:
        """Poll (bounded) until ``count`` successful calls of ``method`` matching ``where`` arrived."""
        deadline = time.monotonic() + within
        while True:
            found = [c for c in self.of(method) if where is None or where(c)]
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                seen = [(c.method, c.status) for c in self.calls]
                raise AssertionError(f"{count}× {method} did not arrive within {within}s; calls: {seen}")
            await asyncio.sleep(0.02)

    def privates(self, user: str | None = None, since: int = 0) -> list[Call]:
        """Private answers, whichever way they went: a command's response_url or chat.postEphemeral."""
        return [
            c
            for c in self.calls[since:]
            if c.method in PRIVATE and c.status == 200 and (user is None or c.user == user)
        ]

    async def wait_for_private(
        self, count: int = 1, user: str | None = None, within: float = WAIT
    ) -> list[Call]:
        """Poll (bounded) until ``count`` private answers (to ``user``) arrived."""
        deadline = time.monotonic() + within
        while True:
            found = self.privates(user)
            if len(found) >= count:
                return found
            if time.monotonic() > deadline:
                seen = [(c.method, c.status) for c in self.calls]
                raise AssertionError(
                    f"{count}× private answer did not arrive within {within}s; calls: {seen}"
                )
            await asyncio.sleep(0.02)

    def private_texts(self) -> list[str]:
        return [_text_of(call) for call in self.privates()]

    async def settle(self, quiet: float = 0.3, within: float = WAIT) -> None:
        """Wait until no call arrived for ``quiet`` seconds (to prove something did NOT happen)."""
        deadline = time.monotonic() + within
        last = len(self.calls)
        quiet_since = time.monotonic()
        while time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            if len(self.calls) != last:
                last = len(self.calls)
                quiet_since = time.monotonic()
            elif time.monotonic() - quiet_since >= quiet:
                return

    @staticmethod
    def answer_ts(call: Call) -> str:
        """The ``ts`` the fake gave the message a chat.postMessage call created."""
        return str(call.response["ts"])

    def texts(self, method: str) -> list[str]:
        """All text a person would read in the successful calls of ``method`` (fallback and blocks)."""
        return [_text_of(call) for call in self.of(method)]

    # Validation --------------------------------------------------------------------------------------

    def assert_valid_block_kit(self) -> None:
        for call in self.calls:
            blocks = call.body.get("blocks")
            if blocks is not None:
                assert isinstance(blocks, list), call
                assert 0 < len(blocks) <= 50, f"{call.method}: {len(blocks)} blocks"
                for raw in blocks:
                    block = Block.parse(raw)
                    assert block is not None, f"unknown block {raw}"
                    block.to_dict()  # raises SlackObjectFormationError beyond a limit
                assert len(json.dumps(blocks)) < 40_000
            view = call.body.get("view")
            if view is not None:
                parsed = View(**view)
                parsed.to_dict()
                assert 0 < len(view["blocks"]) <= 100
                assert len(json.dumps(view)) < 250_000

    # Server ------------------------------------------------------------------------------------------

    async def api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        body = await _parse_body(request)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ") or str(body.get("token", ""))
        fault = self.faults.get(method) or (self.faults.get("*") if method != "auth.test" else None)
        if fault is not None and fault.times > 0:
            fault.times -= 1
            self.calls.append(Call(method, body, token, fault.status))
            headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after is not None else {}
            if fault.status == 429:
                return web.json_response({"ok": False, "error": "ratelimited"}, status=429, headers=headers)
            return web.Response(status=fault.status, text="upstream trouble", headers=headers)
        answer = self.answer(method, body, token)
        self.calls.append(Call(method, body, token, 200, response=answer, user=str(body.get("user") or "")))
        return web.json_response(answer)

    def answer(self, method: str, body: dict[str, Any], token: str) -> dict[str, Any]:
        ok: dict[str, Any] = {"ok": True}
        match method:
            case "auth.test":
                team = self.installed_team["id"] if token == INSTALLED_TOKEN else TEAM
                return {
                    **ok,
                    "team_id": team,
                    "user_id": BOT_USER,
                    "bot_id": BOT_ID,
                    "team": "Bjørnebo barnehage",
                    "url": "https://bjornebo.slack.com/",
                }
            case "chat.postMessage":
                ts = f"1700000000.{next(self._ts):06d}"
                return {**ok, "channel": body.get("channel"), "ts": ts, "message": {"ts": ts}}
            case "chat.update":
                return {**ok, "channel": body.get("channel"), "ts": body.get("ts")}
            case "chat.postEphemeral":
                return {**ok, "message_ts": f"1700000000.{next(self._ts):06d}"}
            case "conversations.open":
                return {**ok, "channel": {"id": "D" + str(body.get("users", "")).lstrip("U")}}
            case "views.open" | "views.publish":
                return {**ok, "view": {"id": "V0001", **(body.get("view") or {})}}
            case "users.info":
                user = str(body.get("user", ""))
                names = {
                    "UKARI": "Kari Leder",
                    "UOLA": "Ola Verneombud",
                    "UNINA": "Nina Tillitsvalgt",
                    "USIRI": "Siri Ansatt",
                    "UPER": "Per Ansatt",
                }
                name = names.get(user, "Ansatt " + user)
                return {
                    **ok,
                    "user": {
                        "id": user,
                        "real_name": name,
                        "locale": "nb-NO",
                        # Kari administers the workspace: she may set up the unit's leder.
                        "is_admin": user in self.admins,
                        "is_owner": False,
                        "profile": {"display_name": name.split()[0], "real_name": name},
                    },
                }
            case "oauth.v2.access":
                return {
                    **ok,
                    "app_id": "A0PARTS",
                    "authed_user": {"id": "UINSTALLER"},
                    "token_type": "bot",
                    "scope": "commands,chat:write",
                    "access_token": INSTALLED_TOKEN,
                    "bot_user_id": BOT_USER,
                    "team": self.installed_team,
                    "enterprise": None,
                    "is_enterprise_install": False,
                }
            case "files.getUploadURLExternal":
                file_id = f"F{next(self._files):04d}"
                return {**ok, "upload_url": f"{self.url}/upload/{file_id}", "file_id": file_id}
            case "files.completeUploadExternal":
                files = body.get("files") or []
                return {**ok, "files": [{"id": f.get("id"), "title": f.get("title")} for f in files]}
            case "apps.connections.open":
                return {**ok, "url": self.url.replace("http://", "ws://") + "/socket"}
        return ok

    async def upload(self, request: web.Request) -> web.Response:
        """The middle step of files.getUploadURLExternal → POST the bytes → files.completeUploadExternal;
        the bytes are kept as sent (``body["data"]``), so a test can open the file."""
        data = await request.read()
        body = {"file": request.match_info["file"], "size": len(data), "data": data}
        self.calls.append(Call("upload", body, "", 200))
        return web.Response(text="OK - " + str(len(data)))

    async def response_url(self, request: web.Request) -> web.Response:
        body = await _parse_body(request)
        path = request.match_info["id"]
        owner = self.response_owners.get(path, "")
        fault = self.faults.get("response_url") or self.faults.get("*")
        if fault is not None and fault.times > 0:
            fault.times -= 1
            self.calls.append(Call("response_url", body, "", fault.status, path=path, user=owner))
            return web.Response(status=fault.status, text="upstream trouble")
        self.calls.append(Call("response_url", body, "", 200, path=path, user=owner))
        return web.json_response({"ok": True})

    async def socket(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self.sockets.append(ws)
        await ws.send_json(
            {"type": "hello", "num_connections": 1, "debug_info": {"approximate_connection_time": 3600}}
        )
        async for message in ws:
            if message.type == WSMsgType.TEXT:
                data = json.loads(message.data)
                self.socket_messages.append(data)
                payload = data.get("payload")
                if isinstance(payload, dict) and (payload.get("text") or payload.get("blocks")):
                    owner = self.envelope_owners.get(str(data.get("envelope_id")), "")
                    self.calls.append(Call("ack", payload, "", 200, user=owner))
        return ws

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/{method}", self.api)
        app.router.add_get("/api/{method}", self.api)
        app.router.add_post("/upload/{file}", self.upload)
        app.router.add_post("/response/{id}", self.response_url)
        app.router.add_get("/socket", self.socket)
        return app


def _text_of(call: Call) -> str:
    """All text a person would read in a call (fallback and blocks)."""
    return str(call.body.get("text", "")) + "\n" + json.dumps(call.body.get("blocks", []))


async def _parse_body(request: web.Request) -> dict[str, Any]:
    raw = await request.text()
    # slack_sdk sends some methods' arguments as query parameters (GET, or POST with params=).
    body: dict[str, Any] = dict(request.query)
    if raw and request.content_type == "application/json":
        body.update(json.loads(raw))
    elif raw:
        body.update(parse_qsl(raw, keep_blank_values=True))
    for key in ("blocks", "view", "files", "attachments"):
        if isinstance(body.get(key), str):
            body[key] = json.loads(body[key])
    return body


# --------------------------------------------------------------------------------------------------
# Signed requests to the real server
# --------------------------------------------------------------------------------------------------


def signed_headers(body: str, *, secret: str = SIGNING_SECRET, ts: int | None = None) -> dict[str, str]:
    ts = int(time.time()) if ts is None else ts
    signature = SignatureVerifier(secret).generate_signature(timestamp=str(ts), body=body)
    return {"X-Slack-Request-Timestamp": str(ts), "X-Slack-Signature": signature or ""}


class SlackDriver:
    """Sends what Slack would send, signed, to the running server."""

    def __init__(self, client: TestClient, fake: FakeSlack, adapter: SlackWebAdapter, bot: Partsbot) -> None:
        self.client = client
        self.fake = fake
        self.adapter = adapter
        self.bot = bot
        self._triggers = itertools.count(1)
        self._events = itertools.count(1)
        self._responses = itertools.count(1)
        self.last_request: tuple[bytes, dict[str, str]] = (b"", {})

    async def send(
        self,
        body: str,
        content_type: str,
        *,
        secret: str = SIGNING_SECRET,
        ts: int | None = None,
        headers: dict[str, str] | None = None,
    ) -> ClientResponse:
        all_headers = {
            **signed_headers(body, secret=secret, ts=ts),
            "Content-Type": content_type,
            **(headers or {}),
        }
        self.last_request = (body.encode(), all_headers)
        response = await self.client.post("/slack/events", data=body.encode(), headers=all_headers)
        await response.read()
        return response

    def response_url(self, user: str) -> str:
        n = str(next(self._responses))
        self.fake.response_owners[n] = user
        return f"{self.fake.url}/response/{n}"

    def trigger(self) -> str:
        return f"trigger.{next(self._triggers)}"

    async def command(
        self, text: str, *, user: str = "UKARI", channel: str = CHANNEL, team: str = TEAM, **extra: Any
    ) -> ClientResponse:
        form = {
            "token": "legacy",
            "team_id": team,
            "team_domain": "bjornebo",
            "channel_id": channel,
            "channel_name": "bjornebo-ansatte",
            "user_id": user,
            "user_name": user.lower(),
            "command": "/parts",
            "text": text,
            "api_app_id": "A0PARTS",
            "is_enterprise_install": "false",
            "response_url": self.response_url(user),
            "trigger_id": self.trigger(),
            **extra,
        }
        response = await self.send(urlencode(form), "application/x-www-form-urlencoded")
        self.fake.record_ack(response.status, response.content_type, await response.read(), user)
        return response

    async def interactive(self, payload: dict[str, Any], **kwargs: Any) -> ClientResponse:
        body = urlencode({"payload": json.dumps(payload)})
        return await self.send(body, "application/x-www-form-urlencoded", **kwargs)

    async def click(
        self,
        action_id: str,
        value: str,
        *,
        user: str = "UKARI",
        channel: str = CHANNEL,
        message_ts: str = "1700000000.000001",
        thread_ts: str | None = None,
        team: str = TEAM,
        ephemeral: bool = False,
    ) -> ClientResponse:
        """A button pressed on a message; ``ephemeral`` for one only the person sees (a private answer):
        then, like Slack, the payload has no ``message`` and the container carries the thread."""
        container: dict[str, Any] = {
            "type": "message",
            "message_ts": message_ts,
            "channel_id": channel,
            "is_ephemeral": ephemeral,
        }
        message: dict[str, Any] = {"type": "message", "ts": message_ts, "text": "…"}
        if thread_ts:
            message["thread_ts"] = thread_ts
            if ephemeral:
                container["thread_ts"] = thread_ts
        payload: dict[str, Any] = {
            "type": "block_actions",
            "team": {"id": team, "domain": "bjornebo"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": team},
            "api_app_id": "A0PARTS",
            "token": "legacy",
            "trigger_id": self.trigger(),
            "container": container,
            "channel": {"id": channel, "name": "bjornebo-ansatte"},
            "response_url": self.response_url(user),
            "actions": [
                {
                    "type": "button",
                    "action_id": action_id,
                    "block_id": "b1",
                    "value": value,
                    "action_ts": "1700000001.000000",
                    "text": {"type": "plain_text", "text": "x"},
                }
            ],
        }
        if not ephemeral:
            payload["message"] = message
        return await self.interactive(payload)

    async def submit(
        self, view: dict[str, Any], values: dict[str, str], *, user: str = "UKARI"
    ) -> ClientResponse:
        """Submit a modal the bot opened (``view`` as sent to views.open), filled with ``values``."""
        state: dict[str, dict[str, Any]] = {}
        for block in view["blocks"]:
            if block["type"] != "input":
                continue
            element = block["element"]
            name = element["action_id"]
            text = values.get(name)
            if element["type"] == "plain_text_input":
                state[block["block_id"]] = {name: {"type": "plain_text_input", "value": text}}
            elif element["type"] == "static_select":
                chosen = {"value": text, "text": {"type": "plain_text", "text": text}} if text else None
                state[block["block_id"]] = {name: {"type": "static_select", "selected_option": chosen}}
            elif element["type"] == "datepicker":
                state[block["block_id"]] = {name: {"type": "datepicker", "selected_date": text}}
            elif element["type"] == "checkboxes":
                # Ticked: the box's own option, as Slack sends it; unticked: an empty list.
                ticked = [element["options"][0]] if text else []
                state[block["block_id"]] = {name: {"type": "checkboxes", "selected_options": ticked}}
            else:
                state[block["block_id"]] = {name: {"type": element["type"], "value": text}}
        payload = {
            "type": "view_submission",
            "team": {"id": TEAM, "domain": "bjornebo"},
            "user": {"id": user, "username": user.lower(), "name": user.lower(), "team_id": TEAM},
            "api_app_id": "A0PARTS",
            "token": "legacy",
            "trigger_id": self.trigger(),
            "view": {
                **view,
                "id": "V0001",
                "team_id": TEAM,
                "type": "modal",
                "state": {"values": state},
                "hash": "h",
                "app_id": "A0PARTS",
                "bot_id": BOT_ID,
            },
            "response_urls": [],
        }
        return await self.interactive(payload)

    def event_body(self, event: dict[str, Any], *, team: str = TEAM, event_id: str | None = None) -> str:
        body = {
            "token": "legacy",
            "team_id": team,
            "api_app_id": "A0PARTS",
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{next(self._events):08d}",
            "event_time": int(time.time()),
            "authorizations": [
                {"team_id": team, "user_id": BOT_USER, "is_bot": True, "is_enterprise_install": False}
            ],
        }
        return json.dumps(body)

    async def event(self, event: dict[str, Any], **kwargs: Any) -> ClientResponse:
        headers = kwargs.pop("headers", None)
        return await self.send(self.event_body(event, **kwargs), "application/json", headers=headers)

    async def thread_reply(
        self, text: str, thread_ts: str, *, user: str = "UKARI", channel: str = CHANNEL
    ) -> ClientResponse:
        ts = f"1700000100.{next(self._events):06d}"
        return await self.event(
            {
                "type": "message",
                "channel": channel,
                "user": user,
                "text": text,
                "ts": ts,
                "thread_ts": thread_ts,
                "channel_type": "channel",
                "event_ts": ts,
            }
        )

    async def idle(self) -> None:
        """Wait (bounded) until the adapter's acknowledged work has finished: no task left, twice in a row
        50 ms apart, so a listener that bolt starts just after its acknowledgement is not missed."""
        deadline = time.monotonic() + WAIT
        quiet = 0
        # A bounded poll: the tasks belong to the server, there is no event to wait on.
        while quiet < 2 and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
            busy = len(self.adapter.tasks) or self.adapter.bot.inbox.busy()
            quiet = quiet + 1 if not busy else 0
        assert quiet >= 2, "background work did not finish"
