"""Idempotent publishing (SPEC §8.1, issue #30): a publish whose key was seen in its room
within --idempotency-window publishes nothing and answers the first one's seq — over
HTTP (Idempotency-Key), over a keyed publish stream, across a restart with --data-dir,
and across two nodes through a real redis-server (the key kept inside the Lua script)."""

import json
import threading
import time

import pytest

from redis_harness import Redis, have_redis
from wspush_harness import DEADLINE, Server, connect, raw_http, recv_json

WELCOME = {"status": 200, "event": "notification", "data": "Welcome"}


def post(server, room, data, key=None):
    """POST /api/publish with an Idempotency-Key: (status, answer)."""
    body = json.dumps(data)
    header = "Idempotency-Key: %s\r\n" % key if key is not None else ""
    status, _, text = raw_http(
        "127.0.0.1", server.port,
        "POST /api/publish?room=%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n%s\r\n%s"
        % (room, len(body), header, body))
    return status, json.loads(text)


def messages(ws, until_seq):
    """The messages a member gets up to `until_seq` (a later marker message)."""
    out = []
    while True:
        m = recv_json(ws)
        if m.get("seq") == until_seq:
            return out
        out.append(m)


def test_a_repeated_key_answers_the_first_seq_and_publishes_nothing():
    with Server("--room", "/news", "--room", "/other") as s:
        member = connect(s.url("/news"))
        assert recv_json(member) == WELCOME
        assert post(s, "/news", "a", key="k1") == (200, {"delivered": 1, "seq": 1})
        assert post(s, "/news", "a again", key="k1") == (
            200, {"delivered": 0, "seq": 1, "duplicate": True})
        assert post(s, "/news", "b", key="k2")[1]["seq"] == 2
        assert post(s, "/other", "c", key="k1")[1] == {"delivered": 0, "seq": 1}  # per room
        assert post(s, "/news", "no key")[1]["seq"] == 3
        status, answer = post(s, "/news", "x", key="k" * 257)
        assert status == 400 and "idempotency key over 256 bytes" in answer["data"]
        marker = post(s, "/news", "end")[1]["seq"]
        assert [m["data"] for m in messages(member, marker)] == ["a", "b", "no key"]
        member.close()


def test_a_key_is_forgotten_after_the_window():
    with Server("--room", "/news", "--idempotency-window", "1s") as s:
        assert post(s, "/news", 1, key="k")[1]["seq"] == 1
        assert post(s, "/news", 1, key="k")[1].get("duplicate") is True
        time.sleep(1.5)
        assert post(s, "/news", 1, key="k")[1] == {"delivered": 0, "seq": 2}


def test_keys_are_ignored_with_a_zero_window():
    with Server("--room", "/news", "--idempotency-window", "0s") as s:
        assert post(s, "/news", 1, key="k")[1]["seq"] == 1
        assert post(s, "/news", 1, key="k")[1]["seq"] == 2


def test_a_keyed_publish_stream_takes_a_key_per_frame():
    with Server("--room", "/news") as s:
        stream = connect(s.url("/api/publish?room=/news&keyed=1"))
        answers = []
        for frame in ({"idempotency_key": "a", "data": {"n": 1}},
                      {"idempotency_key": "a", "data": {"n": 1}},
                      {"idempotency_key": "b", "data": [2]},
                      {"data": 3},
                      {"idempotency_key": "", "data": 3},
                      {"idempotency_key": "c"}):
            stream.send(json.dumps(frame))
            answers.append(recv_json(stream))
        stream.close()
        assert [a.get("data") for a in answers[:3]] == [
            {"delivered": 0, "seq": 1}, {"delivered": 0, "seq": 1, "duplicate": True},
            {"delivered": 0, "seq": 2}]
        for refused in answers[3:]:
            assert refused["status"] == 400 and "idempotency_key" in refused["data"], refused
        # A stream without keyed=1 publishes the frame as it is, key field and all.
        plain = connect(s.url("/api/publish?room=/news"))
        plain.send(json.dumps({"idempotency_key": "a", "data": 1}))
        assert recv_json(plain)["data"]["seq"] == 3
        plain.close()


def test_a_key_outlives_a_restart_with_a_data_dir(tmp_path):
    d = str(tmp_path / "data")
    with Server("--room", "/news", "--data-dir", d) as s:
        assert post(s, "/news", "once", key="order-42")[1]["seq"] == 1
        port = s.port
    with Server("--room", "/news", "--data-dir", d, port=port) as s:
        assert post(s, "/news", "once", key="order-42")[1] == {
            "delivered": 0, "seq": 1, "duplicate": True}
        assert post(s, "/news", "next", key="order-43")[1]["seq"] == 2


@pytest.mark.skipif(not have_redis(), reason="redis-server is not installed")
def test_across_two_nodes_one_key_publishes_once_even_when_sent_to_both_at_once():
    with Redis() as redis, \
            Server("--room", "/news", "--broker", redis.url) as a, \
            Server("--room", "/news", "--broker", redis.url) as b:
        deadline = time.monotonic() + DEADLINE
        while post(a, "/news", "warm-up")[0] != 200 or post(b, "/news", "warm-up")[0] != 200:
            assert time.monotonic() < deadline, "the nodes did not reach Redis"
            time.sleep(0.1)
        members = [connect(n.url("/news?since=0")) for n in (a, b)]
        for ws in members:
            assert recv_json(ws) == WELCOME
        answers = []

        def send(node):
            answers.append(post(node, "/news", "exactly once", key="pay-7")[1])

        threads = [threading.Thread(target=send, args=(n,)) for n in (a, b) * 10]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=DEADLINE)
        assert len(answers) == 20
        assert len({x["seq"] for x in answers}) == 1
        assert sum(1 for x in answers if not x.get("duplicate")) == 1
        marker = post(b, "/news", "end")[1]["seq"]
        for ws in members:
            got = [m["data"] for m in messages(ws, marker) if m.get("event") == "message"]
            assert got.count("exactly once") == 1, got
            ws.close()
        # The key lives in Redis for the window, next to the room's stream.
        assert 0 < int(redis.cli("PTTL", "wspush:{/news}:key:pay-7").strip()) <= 300000
