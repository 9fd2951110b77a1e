"""`wspush publish --reconnect` (SPEC §8.1, issue #30): a publisher whose connection is
cut several times during a 5000-line stream loses nothing and publishes nothing twice —
the unacknowledged lines are sent again with their idempotency keys. Real binary, a real
TCP forwarder that resets the connection mid-stream, a subscriber on the server."""

import json
import os
import signal
import subprocess
import tempfile
import time

import pytest

from wspush_harness import (DEADLINE, Server, Stream, file_text, tcp_forwarder, wspush_binary)

LINES = 5000
CUTS = 5


def cut_and_release(fwd):
    fwd.proc.send_signal(signal.SIGUSR1)
    assert "cut" in fwd.next_line()
    time.sleep(0.3)  # refused meanwhile: the publisher backs off and tries again
    fwd.proc.send_signal(signal.SIGUSR2)
    assert fwd.next_line() == {"released": True}


def publish_with_cuts(url, fwd, extra=()):
    """Streams LINES lines into `url` in CUTS + 1 chunks, cutting the connection right
    after each chunk is written (lines are in flight then); exit code and stderr."""
    err = tempfile.TemporaryFile()
    proc = subprocess.Popen([wspush_binary(), "publish", "--json", "--reconnect",
                             "--reconnect-max", "200ms", "--timeout", "60s", *extra, url],
                            stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=err)
    try:
        chunk = LINES // (CUTS + 1) + 1
        for start in range(1, LINES + 1, chunk):
            end = min(LINES, start + chunk - 1)
            proc.stdin.write("".join('{"n":%d}\n' % n for n in range(start, end + 1)).encode())
            proc.stdin.flush()
            if end < LINES:
                time.sleep(0.02)  # some of the chunk acknowledged, some not yet
                cut_and_release(fwd)
        proc.stdin.close()
        code = proc.wait(timeout=DEADLINE * 6)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait(timeout=DEADLINE)
    return code, file_text(err)


@pytest.mark.parametrize("mode", ["memory", "data-dir"])
def test_a_publisher_cut_five_times_loses_nothing_and_doubles_nothing(tmp_path, mode):
    extra = ["--data-dir", str(tmp_path / "data")] if mode == "data-dir" else []
    with Server("--room", "/news", "--history", str(LINES + 10), *extra) as s, \
            tcp_forwarder(s.port) as fwd:
        with Stream(s.url("/news"), "--count", str(LINES + 1)) as sub:
            assert sub.read(1)[0]["event"] == "notification"
            code, err = publish_with_cuts("http://127.0.0.1:%d/news" % fwd.port, fwd)
            assert code == 0, err
            assert "unacknowledged; reconnecting" in err
            assert "%d published after" % LINES in err
            got = sub.read(LINES)
        assert [m["data"]["n"] for m in got] == list(range(1, LINES + 1))
        assert [m["seq"] for m in got] == list(range(1, LINES + 1))


def test_keys_come_from_the_prefix_so_a_rerun_publishes_nothing_again():
    with Server("--room", "/news") as s:
        url = "http://127.0.0.1:%d/news" % s.port
        lines = "".join('{"n":%d}\n' % n for n in range(1, 6))
        for run in range(2):
            r = subprocess.run([wspush_binary(), "publish", "--json", "--key-prefix", "batch-7",
                                url], input=lines, capture_output=True, text=True,
                               timeout=DEADLINE)
            assert r.returncode == 0, r.stderr
        with Stream(s.url("/news?since=0"), "--count", "7") as sub:
            got = sub.read(7)
        assert got[1]["data"]["last_seq"] == 5 and got[1]["data"]["replayed"] == 5
        assert [m["data"]["n"] for m in got[2:]] == [1, 2, 3, 4, 5]
