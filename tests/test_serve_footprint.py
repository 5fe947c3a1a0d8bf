"""What ``partsbot serve`` holds in memory: a Slack-only server loads no library it does not use, and the C
allocator keeps few arenas. (The megabytes themselves are measured by ``make bench``, not here.)"""

from __future__ import annotations

import json
import platform
import socket
import subprocess
import sys
from pathlib import Path

import pytest

# Runs the real entry point in the main thread; a thread waits for /healthz, writes the loaded modules to
# stdout and ends the server with SIGTERM, as an operator would.
PROBE = """\
import json, os, signal, sys, threading, time, urllib.request

def probe():
    url = f"http://127.0.0.1:{os.environ['PORT']}/healthz"
    for _ in range(600):
        try:
            with urllib.request.urlopen(url, timeout=1) as response:
                if response.status == 200:
                    break
        except OSError:
            time.sleep(0.1)
    print(json.dumps(sorted(sys.modules)), flush=True)
    os.kill(os.getpid(), signal.SIGTERM)

threading.Thread(target=probe, daemon=True).start()
from bot.cli import main
raise SystemExit(main(["serve"]))
"""

# Libraries for what a Slack-only server over HTTP has not done: Teams, charts, migrations (they run in a
# child process), Socket Mode, and the public holidays (loaded when a date is first reasoned about; nothing
# is due in an empty database), nor the SQL dialect of the database not in use.
NOT_LOADED = (
    "botbuilder",
    "botframework",
    "matplotlib",
    "alembic",
    "mako",
    "slack_bolt.adapter.socket_mode",
    "slack_sdk.socket_mode",
    "holidays",
    "dateutil",
    "sqlalchemy.dialects.postgresql",
)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_slack_only_server_loads_no_library_it_does_not_use(tmp_path: Path) -> None:
    env = {
        "PATH": "/usr/bin:/bin",
        "HOME": str(tmp_path),
        "PORT": str(free_port()),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'serve.sqlite3'}",
        "PARTSBOT_ENV": "test",
        "PARTSBOT_HOST": "127.0.0.1",
        "SLACK_BOT_TOKEN": "xoxb-footprint",
        "SLACK_SIGNING_SECRET": "footprint-signing-secret-0123456789",
        # Nothing answers here: the server must start without talking to Slack.
        "SLACK_API_URL": "http://127.0.0.1:9/api/",
    }
    done = subprocess.run(
        [sys.executable, "-c", PROBE], capture_output=True, text=True, cwd=tmp_path, env=env, timeout=180
    )
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stdout.strip().splitlines()[-1])
    assert "slack_bolt" in modules and "bot.adapters.slack.app" in modules  # it did serve Slack
    loaded = [m for m in modules if any(m == name or m.startswith(name + ".") for name in NOT_LOADED)]
    assert loaded == []


ARENAS = """\
import re, sys, threading, ctypes, tempfile
from bot.server import cap_malloc_arenas
if sys.argv[1] == "capped":
    assert cap_malloc_arenas(2)
started = threading.Barrier(9)
def work():
    blocks = [bytearray(4096) for _ in range(64)]  # malloc, not Python's small-object allocator
    started.wait()
    started.wait()
threads = [threading.Thread(target=work) for _ in range(8)]
for thread in threads:
    thread.start()
started.wait()  # every thread has allocated and is still alive
libc = ctypes.CDLL(None)
libc.fopen.restype = ctypes.c_void_p
with tempfile.NamedTemporaryFile(suffix=".xml") as out:
    handle = ctypes.c_void_p(libc.fopen(out.name.encode(), b"w"))
    libc.malloc_info(0, handle)
    libc.fclose(handle)
    print(len(re.findall(r'<heap nr="', open(out.name).read())))
started.wait()
for thread in threads:
    thread.join()
"""


@pytest.mark.skipif(platform.libc_ver()[0] != "glibc", reason="malloc arenas are glibc's")
def test_the_server_keeps_two_malloc_arenas_however_many_threads_allocate(tmp_path: Path) -> None:
    def arenas(mode: str) -> int:
        done = subprocess.run(
            [sys.executable, "-c", ARENAS, mode],
            capture_output=True,
            text=True,
            cwd=tmp_path,
            env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)},
            timeout=60,
        )
        assert done.returncode == 0, done.stderr
        return int(done.stdout.strip())

    assert arenas("capped") <= 2
    # Without the cap the same threads take an arena each (so the check above can fail).
    assert arenas("default") > 2
