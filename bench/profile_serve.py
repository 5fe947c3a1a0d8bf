"""Profile ``partsbot serve`` under the benchmark's load with py-spy (every thread, idle time left out).

    .venv/bin/python bench/profile_serve.py [-n 1000] [--database URL] [--teams] [--out DIR]

Writes py-spy's raw stacks to DIR/partsbot.txt and prints the functions that take the most samples, by own
time and by time including callees. Needs ``py-spy`` (``pip install py-spy``); not part of ``make bench``.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import shutil
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

import aiohttp
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load import FakePlatforms, Slack, Teams, free_port, introduce, partsbot, slack_env, throughput


def summary(raw: Path, top: int) -> None:
    own: collections.Counter[str] = collections.Counter()
    total: collections.Counter[str] = collections.Counter()
    samples = 0
    for line in raw.read_text().splitlines():
        stack, _, count = line.rpartition(" ")
        n = int(count)
        frames = stack.split(";")
        samples += n
        own[frames[-1]] += n
        for frame in set(frames):
            total[frame] += n
    print(f"{samples} samples (active threads only)")
    print("\nown time:")
    for frame, n in own.most_common(top):
        print(f"  {100 * n / samples:5.1f}%  {frame}")
    print("\nincluding callees:")
    for frame, n in total.most_common(top * 2):
        print(f"  {100 * n / samples:5.1f}%  {frame}")


async def run(args: argparse.Namespace, out: Path) -> None:
    fake = FakePlatforms()
    runner = web.AppRunner(fake.app(), access_log=None)
    await runner.setup()
    port = free_port()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    fake.url = f"http://127.0.0.1:{port}"
    database = args.database or f"sqlite:///{out / 'profile.sqlite3'}"
    env = {"PARTSBOT_TEAMS": "1"} if args.teams else slack_env(fake.url)
    server = partsbot("partsbot", database, env, fake.url)
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    try:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200)) as session:
            load = Teams(fake, session) if args.teams else Slack(fake, session)
            await server.start(session, out)
            for _ in range(20):  # imports, connections: not what is profiled
                await load.command(server, "CWARM")
            if not args.first_contacts:
                await introduce(load.command, load.people, server)  # known people, as in the bench
            assert server.process is not None
            argv = [spy, "record", "-f", "raw", "-r", "250", "-o", str(out / "partsbot.txt")]
            argv += [] if args.all_threads else ["--gil"]
            argv += ["--idle"] if args.idle else []
            recorder = subprocess.Popen([*argv, "--pid", str(server.process.pid)], stdout=subprocess.DEVNULL)
            await asyncio.sleep(1.0)
            cpu = server.cpu_seconds()
            rate = await throughput(load.command, server, args.n)
            print(f"{rate:.1f} answered/s under py-spy, {(server.cpu_seconds() - cpu) * 1000 / args.n:.2f} ms CPU each")
            recorder.send_signal(signal.SIGINT)
            recorder.wait(timeout=60)
    finally:
        server.stop()
        await runner.cleanup()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=1000)
    parser.add_argument("--database", default="")
    parser.add_argument("--teams", action="store_true")
    parser.add_argument("--first-contacts", action="store_true", help="profile people's first contacts")
    parser.add_argument("--idle", action="store_true", help="count waiting threads too")
    parser.add_argument("--all-threads", action="store_true", help="not only the thread holding the GIL")
    parser.add_argument("--top", type=int, default=25)
    parser.add_argument("--out", default="")
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="partsbot-profile-"))
    out.mkdir(parents=True, exist_ok=True)
    asyncio.run(run(args, out))
    summary(out / "partsbot.txt", args.top)
    print(f"\nraw stacks: {out / 'partsbot.txt'}")


if __name__ == "__main__":
    main()
