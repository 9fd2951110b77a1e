"""Server-Sent Events (SPEC §4): a room followed with `curl -N`, with the WebSocket
replay's rules (Last-Event-ID and ?since=, the recovery event first), a heartbeat, the
send-buffer policy, auth and shutdown."""

import json
import signal
import socket
import time

from test_jwt import SECRET, later, token
from wspush_harness import DEADLINE, Follower, Server, metrics, post, raw_http, read_line


class Curl(Follower):
    """`curl -N` following a URL."""

    def __init__(self, url, *headers):
        argv = ["curl", "-N", "-s", "-S", url]
        for h in headers:
            argv += ["-H", h]
        super().__init__(argv)

    def line(self, timeout=DEADLINE):
        raw = read_line(self.proc.stdout, timeout)
        assert raw, "curl printed nothing more"
        return raw.decode().rstrip("\n")

    def event(self, timeout=DEADLINE):
        """The next event as {field: value}, comments (": …") under "comment"."""
        fields = {}
        while True:
            text = self.line(timeout)
            if text == "":
                if fields:
                    return fields
                continue
            key, _, value = text.partition(": ")
            fields["comment" if key == "" else key] = value


def test_curl_follows_a_room_event_by_event():
    with Server("--room", "/news") as s, Curl(s.url("/news", scheme="http")) as c:
        assert c.event() == {"retry": "1000"}
        welcome = c.event()
        assert welcome["event"] == "notification" and "id" not in welcome
        assert json.loads(welcome["data"])["data"] == "Welcome"
        for i in (1, 2):
            post(s, "/news", {"n": i})
        for i in (1, 2):
            e = c.event()
            assert (e["id"], e["event"]) == (str(i), "message")
            assert json.loads(e["data"]) == {"status": 200, "event": "message",
                                             "data": {"n": i}, "seq": i}


def test_last_event_id_and_since_replay_as_the_websocket_does():
    # Last-Event-ID (what EventSource sends when it reconnects) wins over the URL's
    # ?since=; without it, ?since= is read as for a WebSocket.
    for query, headers in (("?since=1", ("Last-Event-ID: 3",)), ("?since=3", ())):
        with Server("--room", "/news") as s:
            for i in range(1, 6):
                post(s, "/news", i)
            with Curl(s.url("/news" + query, scheme="http"), "Accept: text/event-stream",
                      *headers) as c:
                c.event()  # retry
                assert c.event()["event"] == "notification"
                recovery = c.event()  # told first, before the replay
                assert recovery["event"] == "recovery"
                data = json.loads(recovery["data"])["data"]
                assert (data["recovered"], data["since"], data["replayed"]) == (True, 3, 2)
                assert [c.event()["id"] for _ in range(2)] == ["4", "5"]
                post(s, "/news", 6)
                assert c.event()["id"] == "6"  # then live: no gap, no duplicate


def test_ticks_are_events_with_ids():
    with Server("--room", "/nowtime:ticker", "--interval", "100ms") as s, \
            Curl(s.url("/nowtime", scheme="http")) as c:
        c.event()
        c.event()
        now = c.event()
        assert now["event"] == "nowtime" and "id" not in now  # the current time: no seq
        tick = c.event()
        assert tick["event"] == "nowtime" and int(tick["id"]) >= 1


def test_a_heartbeat_keeps_an_idle_stream_open_past_the_pong_timeout():
    with Server("--room", "/news", "--ping-interval", "200ms", "--pong-timeout", "200ms") as s, \
            Curl(s.url("/news", scheme="http")) as c:
        c.event()
        c.event()
        beats = 0
        end = time.monotonic() + 1.5
        while time.monotonic() < end:
            if c.event().get("comment") == "ping":
                beats += 1
        assert beats >= 3
        post(s, "/news", "still here")
        assert json.loads(c.event()["data"])["data"] == "still here"


def test_a_stream_that_does_not_read_is_cut_by_the_send_buffer_policy():
    with Server("--room", "/news", "--send-buffer", "65536") as s:
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=DEADLINE)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        sock.sendall(b"GET /news HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        big = "x" * 4000
        end = time.monotonic() + DEADLINE * 2
        while metrics(s).get("wspush_slow_consumer_disconnects_total", 0) < 1:
            assert time.monotonic() < end, "the never-reading stream was not cut"
            for _ in range(50):
                post(s, "/news", big)
        sock.close()
        with Curl(s.url("/news", scheme="http")) as c:  # the room serves on
            c.event()
            c.event()
            post(s, "/news", "after")
            assert json.loads(c.event()["data"])["data"] == "after"


def test_auth_unknown_rooms_and_pages_answer_as_for_websockets():
    with Server("--room", "/news", "--jwt-secret", SECRET) as s:
        status, headers, body = raw_http(
            "127.0.0.1", s.port,
            "GET /news HTTP/1.1\r\nHost: x\r\nAccept: text/event-stream\r\n\r\n")
        assert status == 401 and json.loads(body)["status"] == 401
        good = token({"exp": later(), "rooms": ["/news"]})
        with Curl(s.url("/news?token=" + good, scheme="http")) as c:
            c.event()
            assert c.event()["event"] == "notification"
        outside = raw_http("127.0.0.1", s.port,
                           "GET /other?token=%s HTTP/1.1\r\nHost: x\r\n\r\n" % good)
        assert outside[0] == 403  # the token's rooms claim does not cover it
        anywhere = token({"exp": later()})
        status, _, body = raw_http(
            "127.0.0.1", s.port, "GET /nope?token=%s HTTP/1.1\r\nHost: x\r\n\r\n" % anywhere)
        assert status == 404 and "unknown room" in body
        # The routes stay routes: a plain GET of /readyz is not a room's stream.
        readyz = raw_http("127.0.0.1", s.port, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert readyz[0] == 200
        # A browser asking for a page is sent the live page, not a stream.
        status, headers, body = raw_http(
            "127.0.0.1", s.port, "GET /news HTTP/1.1\r\nHost: x\r\nAccept: text/html\r\n\r\n")
        assert status == 200 and headers["content-type"].startswith("text/html")
        assert body.startswith("<!doctype html>") and "from \"/wspush.js\"" in body


def test_shutdown_says_close_then_ends_the_stream():
    with Server("--room", "/news") as s, Curl(s.url("/news", scheme="http")) as c:
        c.event()
        c.event()
        s.signal(signal.SIGTERM)
        close = c.event()
        assert close["event"] == "close"
        assert json.loads(close["data"]) == {"code": 1001, "reason": "server shutting down"}
        assert c.proc.wait(timeout=DEADLINE) == 0  # curl: the body ended
        assert s.wait() == 0
