"""The broker's Lua scripts (issue #30): loaded when a node connects, sent by SHA-1 after
that, and a flushed script cache (SCRIPT FLUSH) refuses what is in flight and comes back
with them loaded — never a later publish numbered before an earlier one. Real
redis-server, real `wspush publish` stream."""

import json
import subprocess
import time

import pytest

from redis_harness import Redis, have_redis
from wspush_harness import DEADLINE, Server, connect, raw_http, recv_json, wspush_binary

pytestmark = pytest.mark.skipif(not have_redis(), reason="redis-server is not installed")


def post(server, data):
    body = json.dumps(data)
    status, _, text = raw_http(
        "127.0.0.1", server.port,
        "POST /api/publish?room=/news HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
        % (len(body), body))
    return status, json.loads(text)


def until_published(server, data):
    """Publishes `data`, retrying while the node has not reached Redis (yet, or again)."""
    deadline = time.monotonic() + DEADLINE
    while post(server, data)[0] != 200:
        assert time.monotonic() < deadline, "the node never reached Redis"
        time.sleep(0.1)


def stream_lines(server, count):
    """`wspush publish --json` of {"n": 1..count}; the finished process."""
    lines = "".join('{"n":%d}\n' % n for n in range(1, count + 1))
    return subprocess.run([wspush_binary(), "publish", "--json",
                           "http://127.0.0.1:%d/news" % server.port], input=lines,
                          capture_output=True, text=True, timeout=DEADLINE * 3)


def replayed_ns(server):
    """The "n" of every message after seq 1, as a ?since=1 join replays them."""
    ws = connect(server.url("/news?since=1"))
    assert recv_json(ws)["event"] == "notification"
    data = recv_json(ws)["data"]
    got = [recv_json(ws)["data"]["n"] for _ in range(data["replayed"])]
    ws.close()
    return got


def test_scripts_are_loaded_on_connect_and_a_flush_never_reorders():
    with Redis() as redis, Server("--room", "/news", "--history", "10000", "--broker",
                                  redis.url) as s:
        until_published(s, 0)
        # Loaded at connect: EVALSHA from the first publish, no EVAL at all.
        stats = redis.cli("INFO", "commandstats")
        assert "cmdstat_evalsha:" in stats and "cmdstat_eval:" not in stats, stats
        assert "cmdstat_script|load:" in stats
        redis.cli("SCRIPT", "FLUSH")
        # A stream of 2000 lines right after the flush: each is published in order or
        # refused (503, reported by wspush publish), never numbered out of order.
        r = stream_lines(s, 2000)
        got = replayed_ns(s)
        assert got == sorted(got), "a later publish was numbered before an earlier one"
        assert r.returncode in (0, 1), r.stderr  # 1: lines refused while the link came back
        until_published(s, "after")  # back, with the scripts loaded again


def test_publishes_of_a_room_in_flight_share_a_script_call_in_order():
    with Redis() as redis, Server("--room", "/news", "--history", "10000", "--broker",
                                  redis.url) as s:
        until_published(s, 0)
        before = evalsha_calls(redis)
        r = stream_lines(s, 3000)
        assert r.returncode == 0, r.stderr
        calls = evalsha_calls(redis) - before
        assert 0 < calls < 3000, calls  # several publishes a call (256 in flight)
        got = replayed_ns(s)
        assert got == list(range(1, 3001))
        # Keys inside one call: the repeat is answered with the first one's seq.
        stream = connect(s.url("/api/publish?room=/news&keyed=1"))
        for key in ("a", "a", "b"):
            stream.send(json.dumps({"idempotency_key": key, "data": key}))
        answers = [recv_json(stream)["data"] for _ in range(3)]
        stream.close()
        assert answers[0]["seq"] == answers[1]["seq"] == 3002 and answers[1]["duplicate"]
        assert answers[2]["seq"] == 3003 and "duplicate" not in answers[2]


def evalsha_calls(redis):
    stats = redis.cli("INFO", "commandstats")
    line = next(l for l in stats.splitlines() if l.startswith("cmdstat_evalsha:"))
    return int(line.split("calls=")[1].split(",")[0])
