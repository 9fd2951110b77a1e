"""Scale-out through Redis (SPEC §8): real redis-server processes on free loopback ports,
two or three `wspush serve --broker` nodes, and clients on each."""

import json
import signal
import time
import urllib.error
import urllib.request

import pytest

from redis_harness import Redis, have_redis
from wspush_harness import (DEADLINE, Server, Stream, connect, metrics, recv_json, run_wspush,
                            tcp_forwarder)

pytestmark = pytest.mark.skipif(not have_redis(), reason="redis-server is not installed")


def node(redis, *args):
    return Server("--room", "/news", "--room", "/chat/*:relay", "--room", "/nowtime:ticker",
                  "--history", "5000", "--broker", redis.url, *args)


def post(server, room, data):
    """POST /api/publish: (status, answer)."""
    req = urllib.request.Request(server.url("/api/publish?room=" + room, scheme="http"),
                                 data=json.dumps(data).encode(), method="POST")
    try:
        with urllib.request.urlopen(req, timeout=DEADLINE) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def get(server, path):
    try:
        with urllib.request.urlopen(server.url(path, scheme="http"), timeout=DEADLINE) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def wait_until(predicate, what, timeout=DEADLINE * 2):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


def publish_until_taken(server, room, data, timeout=DEADLINE * 3):
    """Publishes, retrying while the node answers 503 (Redis away): the seq it got."""
    end = time.monotonic() + timeout
    while True:
        status, answer = post(server, room, data)
        if status == 200:
            return answer["seq"]
        assert status == 503 and "broker unavailable" in answer["data"], (status, answer)
        assert time.monotonic() < end, "Redis never came back"
        time.sleep(0.05)


def joined(server, path="/news", query=""):
    ws = connect(server.url(path + query))
    assert recv_json(ws)["data"] == "Welcome"
    return ws


def messages(ws, n):
    return [recv_json(ws) for _ in range(n)]


def seqs_of(lines):
    return [x["seq"] for x in lines if "seq" in x]


def test_a_publish_on_any_node_reaches_every_node_with_one_seq_in_one_order():
    with Redis() as redis, node(redis) as a, node(redis) as b:
        on_a, on_b = joined(a), joined(b)
        for n in range(1, 21):
            status, answer = post(a if n % 2 else b, "/news", {"n": n})
            assert status == 200 and answer["seq"] == n
        got_a, got_b = messages(on_a, 20), messages(on_b, 20)
        assert got_a == got_b  # the same envelopes, seq and all, in the same order
        assert seqs_of(got_a) == list(range(1, 21))
        assert [x["data"]["n"] for x in got_a] == list(range(1, 21))
        # A relay publish from a member on one node reaches the members on the other.
        chat_a, chat_b = joined(a, "/chat/x"), joined(b, "/chat/x")
        chat_b.send(json.dumps({"event": "publish", "data": "hi"}))
        assert recv_json(chat_a) == recv_json(chat_b) == \
            {"status": 200, "event": "message", "data": "hi", "seq": 1}
        for ws in (on_a, on_b, chat_a, chat_b):
            ws.close()


def test_six_clients_on_three_nodes_each_see_3000_messages_once_and_in_order():
    n = 3000
    with Redis() as redis, node(redis) as a, node(redis) as b, node(redis) as c:
        streams = [Stream(s.url("/news"), "--count", str(n + 1)) for s in (a, b, c, a, b, c)]
        try:
            for s in streams:
                assert s.read(1)[0]["data"] == "Welcome"
            lines = "\n".join(json.dumps({"n": i}) for i in range(1, n + 1)) + "\n"
            r = run_wspush("publish", b.url("/news", scheme="http"), input=lines,
                           timeout=DEADLINE * 6)
            assert r.returncode == 0, r.stderr
            for s in streams:
                code, rest = s.wait(timeout=DEADLINE * 6)
                assert code == 0, s.stderr()
                assert seqs_of(rest) == list(range(1, n + 1))
                assert [x["data"]["n"] for x in rest] == list(range(1, n + 1))
        finally:
            for s in streams:
                s.__exit__(None, None, None)


def last_seq_reaches(server, path, seq):
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        rooms = {r["path"]: r for r in get(server, "/api/rooms")[1]["rooms"]}
        if rooms[path]["last_seq"] >= seq:
            return
        time.sleep(0.02)
    raise AssertionError("%s never reached seq %d on this node" % (path, seq))


def test_a_client_resumes_on_another_node_after_its_node_is_killed():
    with Redis() as redis, node(redis) as b:
        a = node(redis).__enter__()
        try:
            ws = joined(a, query="?since=0")
            recovery = recv_json(ws)
            assert recovery["event"] == "recovery" and recovery["data"]["recovered"]
            epoch = recovery["data"]["epoch"]
            for i in range(1, 6):
                post(b, "/news", i)
            assert seqs_of(messages(ws, 5)) == [1, 2, 3, 4, 5]
        finally:
            a.proc.send_signal(signal.SIGKILL)  # no goodbye: the node just dies
            a.proc.wait(timeout=DEADLINE)
        for i in range(6, 11):
            post(b, "/news", i)
        # The publish is acknowledged by Redis; b's copy of the stream gets seq 10 a
        # moment later, over its subscription. Join once it has: all 5 are a replay.
        last_seq_reaches(b, "/news", 10)
        ws = joined(b, query="?since=5&epoch=%d" % epoch)
        recovery = recv_json(ws)["data"]
        assert recovery["recovered"] and recovery["epoch"] == epoch
        assert recovery["replayed"] == 5
        assert [(x["seq"], x["data"]) for x in messages(ws, 5)] == [(i, i) for i in range(6, 11)]
        ws.close()


def test_behind_a_balancer_a_client_moves_to_the_other_node_without_a_gap():
    """The issue's "done": two nodes behind one balancer; the client's node dies with
    kill -9 mid-stream; `wspush client --reconnect` lands on the other node, resumes
    with ?since= and sees every seq once."""
    n = 200
    with Redis() as redis, node(redis) as b:
        a = node(redis).__enter__()
        with tcp_forwarder(a.port, b.port) as lb:
            s = Stream("ws://127.0.0.1:%d/news" % lb.port, "--reconnect", "--reconnect-max",
                       "200ms")
            try:
                assert s.read(1)[0]["data"] == "Welcome"
                for i in range(1, n + 1):
                    if i == n // 2:
                        a.proc.send_signal(signal.SIGKILL)
                        a.proc.wait(timeout=DEADLINE)
                    assert post(b, "/news", i)[0] == 200
                seen, recoveries = [], []
                end = time.monotonic() + DEADLINE * 3
                while (not seen or seen[-1] < n) and time.monotonic() < end:
                    line = s.read(1)[0]
                    if line.get("event") == "recovery":
                        recoveries.append(line["data"])
                    elif "seq" in line:
                        seen.append(line["seq"])
                assert seen == list(range(1, n + 1)), s.stderr()
                assert recoveries and all(r["recovered"] for r in recoveries)
            finally:
                s.__exit__(None, None, None)


def test_redis_restarted_with_aof_during_a_stream_loses_nothing_within_history():
    n = 300
    with Redis(aof=True) as redis, node(redis) as a, node(redis) as b:
        streams = [Stream(s.url("/news"), "--count", str(n + 1)) for s in (a, b)]
        try:
            for s in streams:
                assert s.read(1)[0]["data"] == "Welcome"
            for i in range(1, n + 1):
                if i == n // 3:
                    redis.restart()  # SIGTERM: Redis ends its AOF, then comes back
                publish_until_taken(a, "/news", i)
            for s in streams:
                code, rest = s.wait(timeout=DEADLINE * 6)
                assert code == 0, s.stderr()
                assert seqs_of(rest) == list(range(1, n + 1))
                assert sorted({x["data"] for x in rest}) == list(range(1, n + 1))
        finally:
            for s in streams:
                s.__exit__(None, None, None)
        # The stream itself survived: a client that has seen nothing gets all of it.
        redis.restart()
        wait_until(lambda: get(b, "/readyz")[0] == 200, "the node to reconnect")
        ws = joined(b, query="?since=0")
        recovery = recv_json(ws)["data"]
        assert recovery["recovered"] and recovery["last_seq"] == n
        assert seqs_of(messages(ws, n)) == list(range(1, n + 1))
        ws.close()


def test_redis_restarted_without_persistence_gives_a_new_epoch_and_recovered_false():
    with Redis() as redis, node(redis) as a:
        for i in range(1, 4):
            post(a, "/news", i)
        ws = joined(a, query="?since=3")
        old_epoch = recv_json(ws)["data"]["epoch"]
        ws.close()
        redis.restart()  # everything Redis held is gone
        wait_until(lambda: get(a, "/readyz")[0] == 200, "the node to reconnect")
        assert publish_until_taken(a, "/news", "after") == 1  # a new stream, from seq 1
        ws = joined(a, query="?since=3&epoch=%d" % old_epoch)
        recovery = recv_json(ws)["data"]
        assert recovery["recovered"] is False and recovery["epoch"] != old_epoch
        assert recv_json(ws)["data"] == "after"  # what the new stream holds is new to it
        ws.close()


def test_redis_down_at_start_then_up_and_down_mid_stream():
    redis = Redis()  # its port, but no server yet
    with node(redis) as a:
        ticker = joined(a, "/nowtime")  # local rooms serve as ever
        assert recv_json(ticker)["event"] == "nowtime"
        member = joined(a)  # a shared room serves its members, with what the node has
        assert get(a, "/readyz") == (503, {"status": "broker unavailable"})
        status, answer = post(a, "/news", "x")
        assert status == 503 and "broker unavailable" in answer["data"]
        try:
            redis.start()
            wait_until(lambda: get(a, "/readyz")[0] == 200, "the node to connect")
            assert post(a, "/news", 1)[0] == 200
            assert recv_json(member)["seq"] == 1
            redis.stop()
            wait_until(lambda: get(a, "/readyz")[0] == 503, "the node to see Redis gone")
            assert post(a, "/news", 2)[0] == 503  # refused, never acknowledged and lost
            assert recv_json(ticker)["event"] == "nowtime"  # still serving
        finally:
            redis.__exit__(None, None, None)
        member.close()
        ticker.close()


def pubsub_client_of(redis, server):
    """The Redis client id of a node's subscription (its CLIENT SETNAME), once it is
    there (after a cut, the node reconnects)."""
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        for line in redis.cli("CLIENT", "LIST", "TYPE", "pubsub").splitlines():
            fields = dict(f.split("=", 1) for f in line.split() if "=" in f)
            if fields.get("name") == "wspush-%d-pubsub" % server.proc.pid:
                return fields["id"]
        time.sleep(0.05)
    raise AssertionError("no subscription of pid %d in CLIENT LIST" % server.proc.pid)


def test_a_cut_subscription_mid_stream_is_filled_from_the_stream():
    n = 600
    with Redis() as redis, node(redis) as a, node(redis) as b:
        s = Stream(b.url("/news"), "--count", str(n + 1))
        try:
            assert s.read(1)[0]["data"] == "Welcome"
            reads_before = metrics(b)["wspush_broker_stream_reads_total"]
            for i in range(1, n + 1):
                if i % 200 == 50:  # b's subscription only: a goes on publishing meanwhile
                    redis.cli("CLIENT", "KILL", "ID", pubsub_client_of(redis, b))
                assert post(a, "/news", i)[0] == 200
            code, rest = s.wait(timeout=DEADLINE * 6)
            assert code == 0, s.stderr()
            assert seqs_of(rest) == list(range(1, n + 1))
            assert [x["data"] for x in rest] == list(range(1, n + 1))
        finally:
            s.__exit__(None, None, None)
        assert metrics(b)["wspush_broker_stream_reads_total"] >= reads_before + 3
        assert metrics(b)["wspush_broker_connects_total"] >= 4


def room_members(server, path="/news"):
    rooms = {r["path"]: r for r in get(server, "/api/rooms")[1]["rooms"]}
    return rooms[path]["members"], rooms[path]["node_members"]


def test_the_rooms_api_counts_members_across_the_cluster():
    with Redis() as redis, node(redis) as b:
        a = node(redis).__enter__()
        try:
            on_a = [joined(a), joined(a)]
            on_b = joined(b)
            wait_until(lambda: room_members(a) == (3, 2) and room_members(b) == (3, 1),
                       "both nodes to count 3 members")
            assert room_members(b, "/nowtime") == (0, None)  # a ticker room is each node's own
        finally:
            a.proc.send_signal(signal.SIGKILL)
            a.proc.wait(timeout=DEADLINE)
        wait_until(lambda: room_members(b) == (1, 1), "the dead node to drop out", DEADLINE * 3)
        on_b.close()
        for ws in on_a:
            ws.close()


def test_bench_spreads_subscribers_over_two_nodes_and_every_probe_crosses_redis():
    with Redis() as redis, node(redis) as a, node(redis) as b:
        r = run_wspush("bench", a.url("/chat/bench"), "--subscribe-url", b.url("/chat/bench"),
                       "--subscribers", "40", "--messages", "50", "--json", "--server-pid",
                       str(a.proc.pid), "--server-pid", str(b.proc.pid), timeout=DEADLINE * 6)
        assert r.returncode == 0, r.stderr
        report = json.loads(r.stdout.splitlines()[-1])
        assert report["deliveries"] == 40 * 50
        assert (report["lost"], report["duplicated"], report["reordered"]) == (0, 0, 0)
        assert report["server_cpu_us_per_1000_deliveries"] is not None
    r = run_wspush("bench", "ws://127.0.0.1:1/r", "--subscribe-url", "wss://127.0.0.1:2/r")
    assert r.returncode == 2 and "not the scheme of" in r.stderr


def test_broker_state_is_in_the_metrics_and_a_bad_url_is_a_usage_error():
    with Redis() as redis, node(redis) as a:
        joined(a).close()
        post(a, "/news", 1)
        families = metrics(a)
        assert families["wspush_broker_up"] == 1
        assert families["wspush_broker_connects_total"] >= 1
        assert families["wspush_broker_stream_reads_total"] >= 1
    r = run_wspush("serve", "--port", "0", "--broker", "redis://nowhere:99999")
    assert r.returncode == 2 and "the port is a number" in r.stderr


def test_subscriptions_work_through_the_broker_and_resume_on_any_node():
    """Issue #27: a room and a family followed by name from one node get what is
    published on the other, with the cluster's seq; a room of the family made on the
    other node is heard of; a room resumes on another node from its seq and epoch."""
    with Redis() as redis, node(redis) as a, node(redis) as b:
        ws = connect(a.url("/"))
        assert recv_json(ws)["data"] == "Welcome"
        ws.send(json.dumps({"event": "subscribe", "room": "/news"}))
        ws.send(json.dumps({"event": "subscribe", "room": "/chat/*"}))
        subscribed = [recv_json(ws) for _ in range(2)]
        assert {s["room"] for s in subscribed} == {"/news", "/chat/*"}
        epoch = [s for s in subscribed if s["room"] == "/news"][0]["data"]["epoch"]
        for n in (1, 2, 3):  # b may still be connecting to Redis: 503 until it is
            assert publish_until_taken(b, "/news", n) == n
        # Made on b, never seen on a before this message.
        assert publish_until_taken(b, "/chat/made-on-b", "first") == 1
        assert publish_until_taken(b, "/chat/made-on-b", "second") == 2
        got = [recv_json(ws) for _ in range(5)]
        news = [(m["room"], m["seq"], m["data"]) for m in got if m["room"] == "/news"]
        chat = [(m["room"], m["seq"], m["data"]) for m in got if m["room"] != "/news"]
        assert news == [("/news", 1, 1), ("/news", 2, 2), ("/news", 3, 3)]
        assert chat == [("/chat/made-on-b", 1, "first"), ("/chat/made-on-b", 2, "second")]
        ws.close()
        post(a, "/news", 4)
        on_b = connect(b.url("/"))
        assert recv_json(on_b)["data"] == "Welcome"
        on_b.send(json.dumps({"event": "subscribe", "room": "/news", "since": 2,
                              "epoch": epoch}))
        assert recv_json(on_b)["event"] == "subscribed"
        recovery = recv_json(on_b)
        assert recovery["event"] == "recovery" and recovery["data"]["recovered"] is True
        assert [recv_json(on_b)["seq"] for _ in range(2)] == [3, 4]
        on_b.close()
