"""The reference clients from shared/seed, unchanged but for the URL, against wspush."""

import json
import os
import re
import shutil
import subprocess

import pytest

from wspush_harness import DEADLINE, Server

SEED = os.environ.get("WSPUSH_SEED") or os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "seed")
PYTHON = "/usr/bin/python3"  # Debian's, with python3-websockets and python3-websocket


@pytest.fixture
def seed_copy(tmp_path):
    if not os.path.isdir(SEED):
        pytest.fail("reference scripts not found at %s (set WSPUSH_SEED)" % SEED)
    for name in ("client_async.py", "client_sync.py", "logger.py"):
        shutil.copy(os.path.join(SEED, name), tmp_path / name)
        os.chmod(tmp_path / name, 0o644)
    return tmp_path


def pointed_at(seed_copy, script, url):
    source = (seed_copy / script).read_text()
    assert "ws://localhost:5000/nowtime" in source
    (seed_copy / script).write_text(source.replace("ws://localhost:5000/nowtime", url))
    return str(seed_copy / script)


@pytest.mark.parametrize("script", ["client_async.py", "client_sync.py"])
def test_reference_client_gets_welcome_ticks_and_bye(seed_copy, script):
    with Server("--interval", "50ms", host="localhost") as s:
        path = pointed_at(seed_copy, script, s.url("/nowtime"))
        r = subprocess.run([PYTHON, path], capture_output=True, text=True, timeout=DEADLINE * 3,
                           cwd=seed_copy, stdin=subprocess.DEVNULL)
        messages = [json.loads(l) for l in r.stdout.splitlines() if l.startswith("{")]
        assert messages[0] == {"status": 200, "event": "notification", "data": "Welcome"}
        ticks = [m for m in messages if m["event"] == "nowtime"]
        assert len(ticks) >= 10
        assert all(re.match(r"^\d{4}-\d\d-\d\dT[\d:]{8}\.\d{6}Z$", t["data"]) for t in ticks)
        seqs = [t["seq"] for t in ticks if "seq" in t]
        assert seqs == list(range(seqs[0], seqs[0] + len(seqs)))
        assert {"status": 200, "event": "bye", "data": "bye"} in messages
        assert "send close" in r.stdout
        assert r.returncode == 0, r.stderr
