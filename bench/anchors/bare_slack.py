"""Anchor: the least a slack-bolt app does for a slash command – acknowledge, then post one ephemeral
message through the Web API. With ``--durable DATABASE_URL`` it first writes the command to that database
in one transaction (the floor for a bot that must not lose acknowledged work).

Run by ``bench/bench_serve.py``; not part of Partsbot.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response, to_bolt_request
from slack_bolt.async_app import AsyncAck, AsyncApp
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import Column, Integer, MetaData, String, Table, Text, create_engine, event


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--durable", default="")
    args = parser.parse_args()
    meta = MetaData()
    commands = Table(
        "bare_command",
        meta,
        Column("id", Integer, primary_key=True),
        Column("key", String(128), unique=True),
        Column("body", Text),
    )
    engine = None
    if args.durable:
        url = args.durable.replace("postgresql://", "postgresql+psycopg://", 1)
        if url.startswith("sqlite"):
            # The same SQLite settings as Partsbot (WAL, wait for the write lock), so the floor is fair.
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

            @event.listens_for(engine, "connect")
            def pragmas(dbapi_connection: object, _record: object) -> None:
                cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
                cursor.execute("PRAGMA journal_mode=WAL")
                cursor.execute("PRAGMA synchronous=NORMAL")
                cursor.close()
        else:
            engine = create_engine(url, pool_size=10, max_overflow=10)
        meta.drop_all(engine)
        meta.create_all(engine)

    def store(body: dict[str, object]) -> None:
        assert engine is not None
        with engine.begin() as conn:
            conn.execute(commands.insert().values(key=str(body.get("trigger_id")), body=json.dumps(body)))

    session_holder: dict[str, object] = {}

    async def client() -> AsyncWebClient:
        if "client" not in session_holder:
            import aiohttp

            session_holder["client"] = AsyncWebClient(
                token=os.environ["SLACK_BOT_TOKEN"],
                base_url=os.environ["SLACK_API_URL"],
                session=aiohttp.ClientSession(),
            )
        return session_holder["client"]  # type: ignore[return-value]

    app = AsyncApp(
        token=os.environ["SLACK_BOT_TOKEN"],
        signing_secret=os.environ["SLACK_SIGNING_SECRET"],
        client=AsyncWebClient(token=os.environ["SLACK_BOT_TOKEN"], base_url=os.environ["SLACK_API_URL"]),
        process_before_response=False,
    )

    @app.command("/parts")
    async def command(ack: AsyncAck, body: dict[str, object]) -> None:
        if engine is not None:
            await asyncio.to_thread(store, body)
        await ack()
        web_client = await client()
        await web_client.chat_postEphemeral(
            channel=str(body["channel_id"]), user=str(body["user_id"]), text="Hjelp: /parts problem …"
        )

    async def events(request: web.Request) -> web.Response:
        return await to_aiohttp_response(await app.async_dispatch(await to_bolt_request(request)))

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    web_app = web.Application()
    web_app.router.add_post("/slack/events", events)
    web_app.router.add_get("/healthz", healthz)
    web.run_app(web_app, host="127.0.0.1", port=args.port, print=None)


if __name__ == "__main__":
    main()
