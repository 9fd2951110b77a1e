"""One connection, many rooms (SPEC §3.1, issue #27), against the real binary: subscribe
and unsubscribe, per-room resume, family patterns, refusals that name the room and keep
the connection, slow consumers, and `wspush client --subscribe` in both modes resuming
every room after a cut."""

import json
import os
import signal
import time
import urllib.request

import pytest

from test_jwt import SECRET, later, token
from test_sse import Curl
from wspush_harness import (DEADLINE, Server, Stream, connect, frames, never_reading_member,
                            post, recv_json, tcp_forwarder)

WELCOME = {"status": 200, "event": "notification", "data": "Welcome"}
ROOMS = ["--room", "/news", "--room", "/r:relay", "--room", "/chat/*:relay", "--room",
         "/echo:echo"]


def say(ws, **message):
    ws.send(json.dumps(message))


def expect(ws, event, room=None):
    got = recv_json(ws)
    assert got["event"] == event and got.get("room") == room, got
    return got


def test_a_connection_to_the_root_follows_the_rooms_it_subscribes_and_no_other():
    with Server(*ROOMS) as s:
        ws = connect(s.url("/"))
        assert recv_json(ws) == WELCOME
        say(ws, event="subscribe", room="/news")
        subscribed = expect(ws, "subscribed", "/news")
        assert subscribed["status"] == 200 and subscribed["data"]["last_seq"] == 0
        post(s, "/r", "not followed")
        assert post(s, "/news", {"n": 1}) == 1
        assert recv_json(ws) == {"status": 200, "event": "message", "data": {"n": 1}, "seq": 1,
                                 "room": "/news"}
        say(ws, event="subscribe", room="/r")
        expect(ws, "subscribed", "/r")
        say(ws, event="unsubscribe", room="/news")
        assert expect(ws, "unsubscribed", "/news")["status"] == 200
        post(s, "/news", 2)  # nothing of it after the unsubscribed
        post(s, "/r", 3)
        got = recv_json(ws)
        assert got["room"] == "/r" and got["data"] == 3 and got["seq"] == 2
        ws.close()


def test_the_urls_room_keeps_its_envelope_while_the_connection_follows_more():
    with Server(*ROOMS) as s:
        ws = connect(s.url("/news"))
        assert recv_json(ws) == WELCOME
        say(ws, event="subscribe", room="/chat/*")
        expect(ws, "subscribed", "/chat/*")
        post(s, "/news", 1)
        assert recv_json(ws) == {"status": 200, "event": "message", "data": 1, "seq": 1}
        post(s, "/chat/lobby", 2)  # a room of the family made after the subscription
        assert recv_json(ws) == {"status": 200, "event": "message", "data": 2, "seq": 1,
                                 "room": "/chat/lobby"}
        # A publish into a followed relay room, by name; the URL's feed room refuses.
        say(ws, event="publish", room="/chat/lobby", data="from the member")
        got = recv_json(ws)
        assert got["room"] == "/chat/lobby" and got["data"] == "from the member"
        say(ws, event="publish", data="x")
        assert recv_json(ws)["status"] == 403
        ws.close()


def test_a_room_resumes_from_its_seq_and_epoch_with_no_gap_and_no_duplicate():
    with Server(*ROOMS) as s:
        for i in range(1, 6):
            post(s, "/news", i)
        ws = connect(s.url("/"))
        recv_json(ws)
        say(ws, event="subscribe", room="/news", since=0)
        epoch = expect(ws, "subscribed", "/news")["data"]["epoch"]
        recovery = expect(ws, "recovery", "/news")["data"]
        assert recovery["recovered"] is True and recovery["replayed"] == 5
        assert [recv_json(ws)["seq"] for _ in range(5)] == [1, 2, 3, 4, 5]
        ws.close()
        ws = connect(s.url("/"))
        recv_json(ws)
        say(ws, event="subscribe", room="/news", since=3, epoch=epoch)
        expect(ws, "subscribed", "/news")
        assert expect(ws, "recovery", "/news")["data"]["recovered"] is True
        post(s, "/news", 6)
        assert [recv_json(ws)["seq"] for _ in range(3)] == [4, 5, 6]
        say(ws, event="subscribe", room="/r", since=0, epoch=epoch + 1)  # another stream
        expect(ws, "subscribed", "/r")
        assert expect(ws, "recovery", "/r")["data"]["recovered"] is False
        ws.close()


@pytest.mark.parametrize("message,status", [
    ({"event": "subscribe", "room": "/nope"}, 404),
    ({"event": "subscribe", "room": "/nope/*"}, 404),
    ({"event": "subscribe", "room": "/news"}, 409),
    ({"event": "subscribe", "room": "/echo"}, 403),
    ({"event": "subscribe", "room": "/chat/*", "since": 2}, 400),
    ({"event": "unsubscribe", "room": "/r"}, 404),
])
def test_refusals_name_the_room_and_the_connection_stays(message, status):
    with Server(*ROOMS) as s:
        ws = connect(s.url("/"))
        recv_json(ws)
        say(ws, event="subscribe", room="/news")
        expect(ws, "subscribed", "/news")
        ws.send(json.dumps(message))
        refused = recv_json(ws)
        assert refused["status"] == status and refused["event"] == "error", refused
        assert refused["room"] == message["room"]
        say(ws, event="ping")
        assert recv_json(ws)["event"] == "pong"  # still there
        ws.close()


def test_max_subscriptions_and_the_tokens_rooms_claim(tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(SECRET)
    with Server(*ROOMS, "--max-subscriptions", "2", "--jwt-secret-file", str(secret)) as s:
        t = token({"exp": later(), "rooms": ["/news", "/chat/*"]})
        ws = connect(s.url("/") + "?token=" + t)
        recv_json(ws)
        say(ws, event="subscribe", room="/r")
        assert expect(ws, "error", "/r")["status"] == 403
        say(ws, event="subscribe", room="/news")
        say(ws, event="subscribe", room="/chat/*")
        expect(ws, "subscribed", "/news")
        expect(ws, "subscribed", "/chat/*")
        say(ws, event="subscribe", room="/chat/x")
        assert expect(ws, "error", "/chat/x")["status"] == 429
        ws.close()


def test_a_slow_multiplexed_member_is_cut_and_the_rooms_go_on():
    # The 4008 waits behind what is queued; a sanitizer build takes longer than the default
    # 5 s close timeout to get there, and the connection would end without it.
    with Server(*ROOMS, "--send-buffer", "1MiB", "--max-message-size", "1MiB",
                "--close-timeout", "60s") as s:
        subscribe = b'{"event":"subscribe","room":"/chat/*"}'
        slow = never_reading_member(  # a masked frame, with a zero key
            s.port, "/", bytes([0x81, 0x80 | len(subscribe)]) + b"\0\0\0\0" + subscribe)
        fast = connect(s.url("/"))
        recv_json(fast)
        say(fast, event="subscribe", room="/chat/a")
        expect(fast, "subscribed", "/chat/a")
        # 16 MB: far past what loopback's socket buffers hold for a member that never reads.
        for i in range(1, 33):
            post(s, "/chat/a", "x" * 500000)
            assert recv_json(fast)["seq"] == i
        closes = frames(slow, lambda opcode, payload: opcode == 8)
        opcode, payload = closes[-1]
        assert int.from_bytes(payload[:2], "big") == 4008
        assert payload[2:].startswith(b"slow consumer")
        slow.close()
        fast.close()


def publish_cut(server, fwd, rooms, values):
    fwd.proc.send_signal(signal.SIGUSR1)
    assert fwd.next_line() == {"cut": 1}
    for room in rooms:
        for v in values:
            post(server, room, v)
    fwd.proc.send_signal(signal.SIGUSR2)


@pytest.mark.parametrize("mode", ["--async", "--sync"])
def test_wspush_client_follows_several_rooms_and_resumes_each_after_a_cut(mode):
    with Server(*ROOMS) as s, tcp_forwarder(s.port) as fwd:
        url = "ws://127.0.0.1:%d/" % fwd.port
        # welcome, 2 subscribed, then /news 1..3 and /chat/a 1..3 (a room of the pattern);
        # after the cut: welcome, then for each room subscribed, recovery and 4, 5, and
        # the pattern's subscribed: 19 lines
        with Stream(url, mode, "--subscribe", "/news", "--subscribe", "/chat/*", "--reconnect",
                    "--stats", "--count", "19") as sub:
            got = sub.read(3)
            assert got[0] == WELCOME and {g["room"] for g in got[1:]} == {"/news", "/chat/*"}
            for i in (1, 2, 3):
                post(s, "/news", i)
                post(s, "/chat/a", i)
            got = sub.read(6)
            publish_cut(s, fwd, ["/news", "/chat/a"], [4, 5])
            code, rest = sub.wait()
            assert code == 0, sub.stderr()
            everything = got + rest
            for room in ("/news", "/chat/a"):
                seqs = [m["seq"] for m in everything if m.get("room") == room and "seq" in m]
                assert seqs == [1, 2, 3, 4, 5], (room, everything)
            stats = [json.loads(l) for l in sub.stderr().splitlines()
                     if l.startswith('{"event":"stats"')][-1]
            assert stats["gaps"] == 0 and stats["duplicates"] == 0 and stats["reconnects"] == 1
            assert stats["rooms"]["/news"]["gaps"] == 0 and stats["rooms"]["/chat/a"]["received"] >= 5


def rooms_of(server):
    with urllib.request.urlopen(server.url("/api/rooms", "http"), timeout=DEADLINE) as answer:
        return {room["path"]: room for room in json.load(answer)["rooms"]}


@pytest.mark.parametrize("mode", ["--async", "--sync"])
def test_wspush_client_cut_as_a_slow_consumer_resumes_every_room(mode):
    # The 4008 waits behind what is queued; a sanitizer build takes longer than the default
    # 5 s close timeout to get there, and the connection would end without it.
    with Server(*ROOMS, "--send-buffer", "1MiB", "--max-message-size", "1MiB",
                "--close-timeout", "60s") as s:
        with Stream(s.url("/"), mode, "--subscribe", "/news", "--subscribe", "/r",
                    "--reconnect", "--max-message-size", "1MiB") as sub:
            sub.read(3)  # welcome, subscribed x2
            post(s, "/news", "first")
            post(s, "/r", "first")
            sub.read(2)
            os.kill(sub.proc.pid, signal.SIGSTOP)  # it reads nothing for a while
            try:
                for _ in range(16):  # 16 MB: past the buffer and loopback's socket buffers
                    post(s, "/news", "n" * 500000)
                    post(s, "/r", "r" * 500000)
                end = time.monotonic() + DEADLINE
                while time.monotonic() < end and sum(
                        r["disconnected"] for r in rooms_of(s).values()) == 0:
                    time.sleep(0.05)
                assert sum(r["disconnected"] for r in rooms_of(s).values()) == 1
            finally:
                os.kill(sub.proc.pid, signal.SIGCONT)
            seqs = {"/news": [1], "/r": [1]}
            recoveries = []
            for _ in range(200):  # what was queued, then after the 4008 each room resumed
                if all(v[-1] == 17 for v in seqs.values()):
                    break
                m = sub.read(1)[0]
                if m.get("event") == "recovery":
                    recoveries.append((m["room"], m["data"]["recovered"]))
                elif m.get("event") == "message":
                    seqs[m["room"]].append(m["seq"])
            assert seqs == {"/news": list(range(1, 18)), "/r": list(range(1, 18))}
            assert sorted(recoveries) == [("/news", True), ("/r", True)], sub.stderr()
            assert "4008" in sub.stderr()


def events(curl, n):
    """The next `n` events that carry data (the retry hint has none), parsed."""
    out = []
    while len(out) < n:
        e = curl.event()
        if "data" in e:
            out.append(e)
    return out


def test_server_sent_events_follow_several_rooms_and_resume_all_of_them():
    with Server(*ROOMS) as s:
        post(s, "/news", "before")
        url = s.url("/events?room=/news&room=/chat/*", "http")
        with Curl(url) as curl:
            first = events(curl, 3)  # welcome, subscribed x2
            post(s, "/news", "one")
            post(s, "/chat/a", "two")
            first += events(curl, 2)
        datas = [json.loads(e["data"]) for e in first]
        assert [d["data"] for d in datas if d["event"] == "message"] == ["one", "two"]
        assert [d.get("room") for d in datas] == [None, "/news", "/chat/*", "/news", "/chat/a"]
        last_id = [e["id"] for e in first if "id" in e][-1]
        post(s, "/news", "three")
        post(s, "/chat/a", "four")
        with Curl(url, "Last-Event-ID: " + last_id) as curl:
            # welcome, subscribed /news, its recovery and replay, subscribed /chat/*
            again = [json.loads(e["data"]) for e in events(curl, 5)]
        assert [d["event"] for d in again] == ["notification", "subscribed", "recovery",
                                                "message", "subscribed"], again
        assert again[2]["data"]["recovered"] is True and again[2]["data"]["since"] == 2
        # /news resumed after its seq 2; the pattern is live only: "four" is not replayed.
        assert (again[3]["room"], again[3]["seq"], again[3]["data"]) == ("/news", 3, "three")


def test_the_browser_client_is_served_to_any_origin_as_a_valid_module(tmp_path):
    import http.client
    import shutil
    import subprocess
    with Server(*ROOMS) as s:
        def ask(method):
            conn = http.client.HTTPConnection("127.0.0.1", s.port, timeout=DEADLINE)
            conn.request(method, "/wspush.js", headers={"Origin": "http://elsewhere.example"})
            r = conn.getresponse()
            body = r.read()
            conn.close()
            return r, body
        r, body = ask("GET")
        assert r.status == 200
        assert r.getheader("Content-Type").startswith("text/javascript")
        assert r.getheader("Access-Control-Allow-Origin") == "*"  # a module import is CORS
        assert b"export function connect" in body
        head, head_body = ask("HEAD")
        assert head.status == 200 and head_body == b""
        assert int(head.getheader("Content-Length")) == len(body)
        refused, answer = ask("POST")
        assert refused.status == 405 and refused.getheader("Allow") == "GET"
        assert json.loads(answer)["status"] == 405
    if shutil.which("node"):
        module = tmp_path / "wspush.mjs"
        module.write_bytes(body)
        subprocess.run(["node", "--check", str(module)], check=True, timeout=DEADLINE)


def test_bench_follows_many_rooms_per_connection_and_reports_memory_per_subscription():
    from test_cli import run
    with Server("--room", "/b/*:relay") as s:
        r = run("bench", s.url("/b"), "--rooms", "4", "--subscribers", "10", "--publishers",
                "2", "--messages", "50", "--json", "--server-pid", str(s.proc.pid),
                "--settle", "100ms")
        assert r.returncode == 0, r.stderr
        report = json.loads(r.stdout)
        # Every probe reaches every subscriber once, whichever of the 4 rooms it went to.
        assert report["rooms"] == 4 and report["deliveries"] == 10 * 2 * 50
        assert report["lost"] == report["duplicated"] == report["reordered"] == 0
        assert report["server_rss_kib_per_idle_subscription"] is not None
        assert "40 subscriptions" in r.stderr
        with urllib.request.urlopen(s.url("/api/rooms", "http"), timeout=DEADLINE) as answer:
            rooms = {room["path"]: room for room in json.load(answer)["rooms"]}
        assert {"/b/1", "/b/2", "/b/3", "/b/4"} <= set(rooms)
        seqs = [rooms["/b/%d" % k]["last_seq"] for k in range(1, 5)]
        assert sum(seqs) == 2 * 50 and min(seqs) >= 2 * 50 // 4 - 2, seqs  # spread
        # A room the server does not have: the refusal is named, exit 1.
        r = run("bench", s.url("/nosuch"), "--rooms", "2", "--subscribers", "2",
                "--messages", "5", "--settle", "10ms", "--timeout", "20s")
        assert r.returncode == 1 and "unknown room" in r.stderr, r.stderr
