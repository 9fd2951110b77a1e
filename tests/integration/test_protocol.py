"""SPEC §3, row by row, against the real binary on a real socket."""

import json
import re
import signal
import socket
import struct

import pytest
import websocket

from wspush_harness import (DEADLINE, Server, connect, raw_handshake, raw_http, recv_close,
                            recv_json)

ISO_UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
WELCOME = {"status": 200, "event": "notification", "data": "Welcome"}
ROOMS = ["--room", "/nowtime:ticker", "--room", "/r:relay", "--room", "/news:feed",
         "--room", "/echo:echo", "--room", "/chat/*:relay", "--interval", "50ms"]


@pytest.fixture(scope="module")
def server():
    with Server(*ROOMS) as s:
        yield s


def joined(server, path):
    ws = connect(server.url(path))
    assert recv_json(ws) == WELCOME
    return ws


def test_listening_line_is_exactly_one_json_object(server):
    assert json.loads(server.listening) == {"event": "listening", "host": "127.0.0.1",
                                            "port": server.port}
    assert server.listening.endswith(b"}\n")


def test_ticker_sends_current_time_then_ticks_with_consecutive_seq(server):
    ws = joined(server, "/nowtime")
    first = recv_json(ws)
    assert first["status"] == 200 and first["event"] == "nowtime" and "seq" not in first
    assert ISO_UTC.match(first["data"])
    ticks = [recv_json(ws) for _ in range(4)]
    seqs = [t["seq"] for t in ticks]
    assert seqs == list(range(seqs[0], seqs[0] + 4))
    for t in ticks:
        assert set(t) == {"status", "event", "data", "seq"}
        assert t["event"] == "nowtime" and ISO_UTC.match(t["data"])
    assert [t["data"] for t in ticks] == sorted(t["data"] for t in ticks)
    ws.close()


def test_close_event_gets_bye_then_close_1000(server):
    ws = joined(server, "/nowtime")
    ws.send(json.dumps({"event": "close"}))
    code, reason, frames = recv_close(ws)
    messages = [json.loads(f) for f in frames]
    assert messages[-1] == {"status": 200, "event": "bye", "data": "bye"}
    assert all(m["event"] == "nowtime" for m in messages[:-1])  # nothing after the bye
    assert code == 1000


def test_close_event_then_any_frame_closes_at_once(server):
    ws = joined(server, "/news")
    ws.send(json.dumps({"event": "close"}))
    assert recv_json(ws)["event"] == "bye"
    ws.send(json.dumps({"event": "close"}))  # as the reference async client does
    assert recv_close(ws)[0] == 1000


def test_ping_gets_pong_with_time(server):
    ws = joined(server, "/news")
    ws.send('{"event": "ping"}')
    pong = recv_json(ws)
    assert pong["status"] == 200 and pong["event"] == "pong" and ISO_UTC.match(pong["data"])
    ws.close()


def test_publish_in_relay_room_reaches_every_member_including_sender(server):
    members = [joined(server, "/r") for _ in range(3)]
    outsider = joined(server, "/news")
    members[1].send(json.dumps({"event": "publish", "data": {"n": [1, 2.5, "x"]}}))
    got = [recv_json(ws) for ws in members]
    assert got[0] == got[1] == got[2]
    assert got[0]["status"] == 200 and got[0]["event"] == "message"
    assert got[0]["data"] == {"n": [1, 2.5, "x"]}
    members[0].send(json.dumps({"event": "publish", "data": "again"}))
    again = [recv_json(ws) for ws in members]
    assert all(m["seq"] == got[0]["seq"] + 1 for m in again)
    outsider.send('{"event":"ping"}')
    assert recv_json(outsider)["event"] == "pong"  # no room traffic leaked to /news
    for ws in members + [outsider]:
        ws.close()


@pytest.mark.parametrize("path", ["/nowtime", "/news"])
def test_publish_outside_relay_room_is_403_and_connection_stays(server, path):
    ws = joined(server, path)
    ws.send(json.dumps({"event": "publish", "data": 1}))
    reply = recv_json(ws)
    while reply["event"] == "nowtime":
        reply = recv_json(ws)
    assert reply["status"] == 403 and reply["event"] == "error"
    assert "relay" in reply["data"]
    ws.send('{"event":"ping"}')
    reply = recv_json(ws)
    while reply["event"] == "nowtime":
        reply = recv_json(ws)
    assert reply["event"] == "pong"
    ws.close()


@pytest.mark.parametrize("text,fragment", [
    ("not json", "invalid JSON"),
    ('{"event":"dance"}', "unknown event"),
    ('{"data":1}', "missing field: event"),
    ('{"event":"publish"}', "missing field: data"),
    ('[1]', "JSON object"),
])
def test_bad_input_is_400_and_connection_stays(server, text, fragment):
    ws = joined(server, "/r")
    ws.send(text)
    reply = recv_json(ws)
    assert reply["status"] == 400 and reply["event"] == "error"
    assert fragment in reply["data"]
    ws.send(json.dumps({"event": "publish", "data": "still here"}))
    assert recv_json(ws)["data"] == "still here"
    ws.close()


def test_binary_frame_outside_echo_is_400(server):
    ws = joined(server, "/r")
    ws.send_binary(b"\x00\x01")
    reply = recv_json(ws)
    assert reply["status"] == 400 and "binary" in reply["data"]
    ws.close()


def test_echo_room_returns_frames_unchanged(server):
    ws = connect(server.url("/echo"))
    ws.send('{"event":"close"}')
    assert ws.recv_data() == (websocket.ABNF.OPCODE_TEXT, b'{"event":"close"}')
    ws.send_binary(b"\x00\xff\x10")
    assert ws.recv_data() == (websocket.ABNF.OPCODE_BINARY, b"\x00\xff\x10")
    ws.send("not json at all")
    assert ws.recv() == "not json at all"
    ws.close()


def test_unknown_room_is_refused_at_handshake_with_404_json(server):
    status, headers, body = raw_handshake("127.0.0.1", server.port, "/nope?since=1")
    assert status == 404
    assert headers["content-type"] == "application/json"
    assert json.loads(body) == {"status": 404, "event": "error", "data": "unknown room: /nope"}
    with pytest.raises(websocket.WebSocketBadStatusException) as err:
        connect(server.url("/nope"))
    assert err.value.status_code == 404


def test_query_string_is_not_part_of_the_room(server):
    ws = connect(server.url("/news?foo=bar"))
    assert recv_json(ws) == WELCOME
    ws.close()


def test_family_rooms_are_separate_rooms(server):
    a1, a2, b = joined(server, "/chat/a"), joined(server, "/chat/a"), joined(server, "/chat/b")
    a1.send(json.dumps({"event": "publish", "data": "for a"}))
    assert recv_json(a1)["data"] == "for a"
    assert recv_json(a2)["data"] == "for a"
    b.send('{"event":"ping"}')
    assert recv_json(b)["event"] == "pong"
    with pytest.raises(websocket.WebSocketBadStatusException):
        connect(server.url("/chat"))  # the family root is not a room
    for ws in (a1, a2, b):
        ws.close()


def test_plain_http_get(server):
    assert raw_http("127.0.0.1", server.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")[0] == 200
    status, _, body = raw_http("127.0.0.1", server.port, "GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
    assert status == 404 and json.loads(body)["status"] == 404


def test_oversized_message_closes_with_1009():
    with Server("--room", "/r:relay", "--max-message-size", "1024") as s:
        ws = joined(s, "/r")
        ws.send(json.dumps({"event": "publish", "data": "x" * 2048}))
        assert recv_close(ws)[0] == 1009
        other = joined(s, "/r")  # the server is unharmed
        other.close()


def test_invalid_utf8_closes_with_1007(server):
    ws = joined(server, "/r")
    ws.send(b"\xff\xfe", opcode=websocket.ABNF.OPCODE_TEXT)
    assert recv_close(ws)[0] == 1007


def test_client_vanishing_mid_broadcast_does_not_hurt_the_others(server):
    stayers = [joined(server, "/chat/vanish") for _ in range(5)]
    leavers = [joined(server, "/chat/vanish") for _ in range(20)]
    for n in range(200):
        stayers[0].send(json.dumps({"event": "publish", "data": n}))
        if n == 50:
            for ws in leavers:  # RST, no close frame
                ws.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                ws.sock.close()
    for ws in stayers:
        got = [recv_json(ws)["data"] for _ in range(200)]
        assert got == list(range(200))
        ws.close()


@pytest.mark.parametrize("signo", [signal.SIGTERM, signal.SIGINT])
def test_signal_closes_every_client_with_1001_and_exits_0(signo):
    with Server("--room", "/nowtime:ticker", "--room", "/r:relay") as s:
        clients = [joined(s, "/nowtime"), joined(s, "/r"), joined(s, "/r")]
        s.signal(signo)
        for ws in clients:
            assert recv_close(ws)[0] == 1001
            ws.close()
        assert s.wait() == 0


def test_signal_with_a_silent_client_still_exits_within_the_deadline():
    with Server("--room", "/r:relay") as s:
        raw = socket.create_connection(("127.0.0.1", s.port), timeout=DEADLINE)  # never handshakes
        ws = joined(s, "/r")
        s.signal(signal.SIGTERM)
        assert recv_close(ws)[0] == 1001
        assert s.wait() == 0
        raw.close()
