"""--history-ttl and a room's history_ttl= (SPEC §8.1, issue #30): messages older than the
TTL leave the history in memory, in the data dir and in the Redis stream, within about a
second; the seqs go on. Real binary, real LMDB files (counted with Debian's mdb_stat), a
real redis-server."""

import os
import re
import subprocess
import time

import pytest

from redis_harness import Redis, have_redis
from wspush_harness import DEADLINE, Server, connect, post, recv_json


def replay(server, path, since=0):
    """The recovery event's data and the replayed seqs of a ?since= join."""
    ws = connect(server.url("%s?since=%d" % (path, since)))
    try:
        assert recv_json(ws)["event"] == "notification"
        data = recv_json(ws)["data"]
        return data, [recv_json(ws)["seq"] for _ in range(data["replayed"])]
    finally:
        ws.close()


def eventually(check, what, timeout=DEADLINE):
    end = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        assert time.monotonic() < end, "timed out waiting for " + what
        time.sleep(0.1)


def entries_on_disk(directory):
    """Messages in the data dir's LMDB (mdb_stat of its `messages` database)."""
    out = subprocess.run(["mdb_stat", "-s", "messages", directory], capture_output=True,
                         text=True, check=True, timeout=DEADLINE).stdout
    return int(re.search(r"Entries: (\d+)", out).group(1))


def test_a_room_s_ttl_expires_its_history_and_the_seq_goes_on():
    with Server("--room", "/short,history_ttl=1s", "--room", "/long") as s:
        for i in range(3):
            post(s, "/short", {"n": i})
            post(s, "/long", {"n": i})
        assert replay(s, "/short")[1] == [1, 2, 3]
        started = time.monotonic()
        # Gone within the TTL and the sweep's second (plus a generous margin), not before
        # the TTL.
        data, seqs = eventually(lambda: (lambda r: r if not r[1] else None)(replay(s, "/short")),
                                "the messages to expire")
        assert time.monotonic() - started >= 0.5
        assert data["recovered"] is False and data["last_seq"] == 3
        assert replay(s, "/long")[1] == [1, 2, 3]  # no TTL there
        assert post(s, "/short", {"n": 3}) == 4
        assert replay(s, "/short", since=3)[1] == [4]


def test_the_data_dir_drops_expired_messages_and_stays_flat(tmp_path):
    d = str(tmp_path / "data")
    sizes = []
    with Server("--room", "/r,history=1000", "--history-ttl", "1s", "--data-dir", d) as s:
        for round_ in range(3):
            for i in range(300):
                post(s, "/r", {"n": i, "pad": "x" * 2000})
            assert entries_on_disk(d) > 0
            eventually(lambda: entries_on_disk(d) == 0, "the data dir to drop expired messages")
            sizes.append(os.path.getsize(os.path.join(d, "data.mdb")))
        port = s.port
    # Three rounds of 600 KiB each: the file is as large after the third as after the
    # first (LMDB reuses the freed pages), not three times.
    assert sizes[2] <= sizes[0] + 256 * 1024, sizes
    with Server("--room", "/r,history=1000", "--history-ttl", "1s", "--data-dir", d,
                port=port) as s:
        data, seqs = replay(s, "/r")
        assert seqs == [] and data["last_seq"] == 900


@pytest.mark.skipif(not have_redis(), reason="redis-server is not installed")
def test_the_redis_stream_is_trimmed_by_the_ttl_on_redis_s_clock():
    with Redis() as redis, \
            Server("--room", "/news,history_ttl=1s", "--broker", redis.url) as a, \
            Server("--room", "/news,history_ttl=1s", "--broker", redis.url) as b:
        for i in range(5):
            eventually(lambda: post_taken(a, i), "node a to reach Redis")
        stream = "wspush:{/news}:stream"
        assert int(redis.cli("XLEN", stream).strip()) == 5
        eventually(lambda: int(redis.cli("XLEN", stream).strip()) == 0, "XTRIM MINID")
        for node in (a, b):
            data, seqs = replay(node, "/news")
            assert seqs == [] and data["last_seq"] == 5
        # A node that starts now reads nothing expired from the stream.
        assert post(b, "/news", {"n": 5}) == 6
        with Server("--room", "/news,history_ttl=1s", "--broker", redis.url) as c:
            eventually(lambda: replay(c, "/news")[1] == [6], "node c to read the stream")


def post_taken(server, i):
    """Publishes through a node that may not have reached Redis yet; True once taken."""
    try:
        post(server, "/news", {"n": i})
        return True
    except AssertionError:
        return False
