"""Room administration (SPEC §8.1, issue #30): DELETE /api/rooms?room=R (history and seq
gone, URL members closed with 4012, subscribers told, a new epoch when it comes back —
in memory, with --data-dir across a restart, and on every node through Redis) and one
publish into several rooms (POST /api/publish?room=/a&room=/b, one seq per room)."""

import json
import time

import pytest

from redis_harness import Redis, have_redis
from wspush_harness import (DEADLINE, Server, connect, raw_http, recv_close, recv_json)

WELCOME = {"status": 200, "event": "notification", "data": "Welcome"}


def http(server, method, target, body=""):
    status, headers, text = raw_http(
        "127.0.0.1", server.port, "%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
        % (method, target, len(body.encode()), body))
    return status, headers, (json.loads(text) if text else None)


def recovery(server, query):
    ws = connect(server.url("/news" + query))
    assert recv_json(ws) == WELCOME
    data = recv_json(ws)["data"]
    replay = [recv_json(ws)["seq"] for _ in range(data["replayed"])]
    ws.close()
    return data, replay


def room_info(server, path):
    return next(r for r in http(server, "GET", "/api/rooms")[2]["rooms"] if r["path"] == path)


def test_delete_closes_members_tells_subscribers_and_starts_a_new_epoch():
    with Server("--room", "/news", "--room", "/nowtime:ticker", "--interval", "1h") as s:
        for i in range(3):
            http(s, "POST", "/api/publish?room=/news", json.dumps(i))
        old, _ = recovery(s, "?since=0")
        member = connect(s.url("/news"))
        assert recv_json(member) == WELCOME
        follower = connect(s.url("/"))
        assert recv_json(follower) == WELCOME
        follower.send(json.dumps({"event": "subscribe", "room": "/news"}))
        assert recv_json(follower)["event"] == "subscribed"
        status, _, answer = http(s, "DELETE", "/api/rooms?room=/news")
        assert (status, answer) == (200, {"deleted": "/news"})
        code, reason, _ = recv_close(member)
        assert (code, reason) == (4012, "room deleted")
        assert recv_json(follower) == {"status": 410, "event": "unsubscribed",
                                       "data": "room deleted", "room": "/news"}
        info = room_info(s, "/news")
        assert info["last_seq"] == 0 and info["history"] == 0
        assert http(s, "POST", "/api/publish?room=/news", "7")[2]["seq"] == 1
        data, replay = recovery(s, "?since=3&epoch=%d" % old["epoch"])
        assert data["recovered"] is False and data["epoch"] > old["epoch"] and replay == [1]
        # The follower's subscription went: it hears nothing of the room now.
        follower.send(json.dumps({"event": "subscribe", "room": "/news"}))
        assert recv_json(follower)["event"] == "subscribed"
        follower.close()


@pytest.mark.parametrize("method,target,status", [
    ("DELETE", "/api/rooms?room=/nope", 404),
    ("DELETE", "/api/rooms?room=/nowtime", 403),
    ("DELETE", "/api/rooms", 400),
    ("PUT", "/api/rooms?room=/news", 405),
])
def test_delete_errors(method, target, status):
    with Server("--room", "/news", "--room", "/nowtime:ticker", "--interval", "1h") as s:
        got, headers, answer = http(s, method, target)
        assert got == status and answer["status"] == status and answer["data"], answer
        if status == 405:
            assert headers["allow"] == "GET, DELETE"


def test_a_deleted_room_keeps_its_new_epoch_across_a_restart(tmp_path):
    d = str(tmp_path / "data")
    with Server("--room", "/news", "--data-dir", d) as s:
        for i in range(3):
            http(s, "POST", "/api/publish?room=/news", json.dumps(i))
        old, _ = recovery(s, "?since=0")
        assert http(s, "DELETE", "/api/rooms?room=/news")[0] == 200
        http(s, "POST", "/api/publish?room=/news", json.dumps("new"))
        new, _ = recovery(s, "?since=0")
        port = s.port
    with Server("--room", "/news", "--data-dir", d, port=port) as s:
        data, replay = recovery(s, "?since=0")
        assert data["epoch"] == new["epoch"] != old["epoch"]
        assert data["last_seq"] == 1 and replay == [1]


def test_a_family_room_can_be_deleted_and_goes_when_empty():
    with Server("--room", "/chat/*:relay") as s:
        http(s, "POST", "/api/publish?room=/chat/a", "1")
        assert any(r["path"] == "/chat/a" for r in http(s, "GET", "/api/rooms")[2]["rooms"])
        assert http(s, "DELETE", "/api/rooms?room=/chat/a")[0] == 200
        assert not any(r["path"] == "/chat/a" for r in http(s, "GET", "/api/rooms")[2]["rooms"])


@pytest.mark.skipif(not have_redis(), reason="redis-server is not installed")
def test_with_a_broker_every_node_closes_its_members_and_the_stream_goes():
    with Redis() as redis, Server("--room", "/news", "--broker", redis.url) as a, \
            Server("--room", "/news", "--broker", redis.url) as b:
        deadline = time.monotonic() + DEADLINE
        while http(a, "POST", "/api/publish?room=/news", "1")[0] != 200:
            assert time.monotonic() < deadline
            time.sleep(0.1)
        on_b = connect(b.url("/news"))
        assert recv_json(on_b) == WELCOME
        assert int(redis.cli("XLEN", "wspush:{/news}:stream")) >= 1
        assert http(a, "DELETE", "/api/rooms?room=/news")[0] == 200
        assert recv_close(on_b)[:2] == (4012, "room deleted")
        assert int(redis.cli("XLEN", "wspush:{/news}:stream")) == 0
        assert http(b, "POST", "/api/publish?room=/news", "2")[2]["seq"] == 1


def test_one_publish_into_several_rooms_gets_a_seq_in_each():
    with Server("--room", "/a", "--room", "/b", "--room", "/nowtime:ticker",
                "--interval", "1h") as s:
        assert http(s, "POST", "/api/publish?room=/b", json.dumps("earlier"))[0] == 200
        members = {room: connect(s.url(room)) for room in ("/a", "/b")}
        for ws in members.values():
            assert recv_json(ws) == WELCOME
        status, _, answer = http(s, "POST", "/api/publish?room=/a&room=/b&room=/a&event=up",
                                 '{"x": 1}')
        assert status == 200
        assert answer == {"delivered": 2, "rooms": {"/a": {"delivered": 1, "seq": 1},
                                                    "/b": {"delivered": 1, "seq": 2}}}
        assert recv_json(members["/a"]) == {"status": 200, "event": "up", "data": {"x": 1},
                                            "seq": 1}
        assert recv_json(members["/b"])["seq"] == 2
        # One room that cannot take it: nothing is published anywhere.
        for target, code in (("/api/publish?room=/a&room=/nope", 404),
                             ("/api/publish?room=/a&room=/nowtime", 403),
                             ("/api/publish?" + "&".join("room=/a%d" % i for i in range(101)),
                              400)):
            got, _, refused = http(s, "POST", target, "2")
            assert got == code, refused
        assert room_info(s, "/a")["last_seq"] == 1
        for ws in members.values():
            ws.close()
