"""Redis Sentinel (SPEC §8.1, issue #30): two nodes with --broker redis-sentinel://… follow
a failover — the primary killed (-9) mid-stream, a replica promoted — and nothing that was
acknowledged is lost, nothing is published twice. Real redis-server processes: a
primary, two replicas and three sentinels on loopback ports."""

import json
import signal
import threading
import time

import pytest

from redis_harness import Sentinels, have_redis
from wspush_harness import DEADLINE, Server, connect, raw_http, recv_json

pytestmark = pytest.mark.skipif(not have_redis(), reason="redis-server is not installed")

TOTAL = 400


def post(server, n):
    """POST /api/publish of {"n": n} with Idempotency-Key n: (status, answer)."""
    body = json.dumps({"n": n})
    try:
        status, _, text = raw_http(
            "127.0.0.1", server.port,
            "POST /api/publish?room=/feed HTTP/1.1\r\nHost: x\r\nIdempotency-Key: %d\r\n"
            "Content-Length: %d\r\n\r\n%s" % (n, len(body), body))
    except OSError as e:
        return 0, str(e)
    return status, json.loads(text)


def last_seq(server):
    status, _, text = raw_http("127.0.0.1", server.port, "GET /api/rooms HTTP/1.1\r\nHost: x\r\n\r\n")
    rooms = json.loads(text)["rooms"] if status == 200 else []
    return next((r["last_seq"] for r in rooms if r["path"] == "/feed"), None)


def publish_all(server, acked, refused, stop):
    """Publishes n = 1..TOTAL in order, each retried (same key) until acknowledged."""
    for n in range(1, TOTAL + 1):
        while not stop.is_set():
            status, answer = post(server, n)
            if status == 200:
                acked.append((answer["seq"], n))
                break
            refused.append(status)
            time.sleep(0.05)


def test_a_failover_loses_nothing_acknowledged_and_the_nodes_follow_it():
    with Sentinels() as sen, \
            Server("--room", "/feed", "--history", "10000", "--broker", sen.url) as a, \
            Server("--room", "/feed", "--history", "10000", "--broker", sen.url) as b:
        for node in (a, b):
            Sentinels.wait(lambda: b'"status":"ready"' in raw_http(
                "127.0.0.1", node.port, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")[2].encode(),
                "the node to reach the primary")
        acked, refused, stop = [], [], threading.Event()
        publisher = threading.Thread(target=publish_all, args=(a, acked, refused, stop))
        publisher.start()
        try:
            Sentinels.wait(lambda: len(acked) >= 100, "100 publishes before the failover")
            old = sen.primary.port
            sen.primary.stop(signal.SIGKILL)  # mid-stream: no goodbye
            Sentinels.wait(lambda: sen.primary_port(sen.sentinel_ports[0]) not in (None, old),
                           "the sentinels to promote a replica", timeout=DEADLINE * 4)
            publisher.join(timeout=DEADLINE * 6)
            assert not publisher.is_alive(), "publishing never resumed after the failover"
        finally:
            stop.set()
            publisher.join(timeout=DEADLINE)
        assert len(acked) == TOTAL and refused, "the failover was not felt"
        assert all(status == 503 for status in refused), refused
        # Every acknowledged publish is in the new primary's stream, once, as acknowledged:
        # what either node replays from seq 0, once it is back (node b publishes nothing,
        # so it comes back when its backoff says, up to 5 s after its last try).
        for node in (a, b):
            Sentinels.wait(lambda: last_seq(node) == TOTAL, "the node to catch up",
                           timeout=DEADLINE * 3)
            ws = connect(node.url("/feed?since=0"))
            assert recv_json(ws)["event"] == "notification"
            recovery = recv_json(ws)["data"]
            replay = [recv_json(ws) for _ in range(recovery["replayed"])]
            ws.close()
            kept = {m["seq"]: m["data"]["n"] for m in replay}
            assert all(kept.get(seq) == n for seq, n in acked), "an acknowledged publish is lost"
            assert sorted(kept.values()) == list(range(1, TOTAL + 1)), "a publish is doubled"
        new = sen.primary_port(sen.sentinel_ports[0])
        assert "connected to redis 127.0.0.1:%d" % new in a.stderr_text()
