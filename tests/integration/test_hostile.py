"""Hostile peers at the handshake (SPEC §3, §6): each gets its exact documented answer,
counted by reason, while the room's other members keep receiving in order."""

import json
import socket
import time

import pytest

from wspush_harness import (DEADLINE, Server, connect, frames, metrics, raw_http, recv_json,
                            run_wspush)

KEY = "dGhlIHNhbXBsZSBub25jZQ=="


def request(method="GET", path="/news", drop=(), extra=(), version="13", key=KEY):
    headers = {"Host": "x", "Upgrade": "websocket", "Connection": "Upgrade",
               "Sec-WebSocket-Key": key, "Sec-WebSocket-Version": version}
    lines = ["%s %s HTTP/1.1" % (method, path)]
    lines += ["%s: %s" % (k, v) for k, v in headers.items() if k not in drop and v is not None]
    lines += list(extra)
    return "\r\n".join(lines) + "\r\n\r\n"


def refusals(server):
    """Handshake refusals counted in /metrics, by reason."""
    prefix = 'wspush_handshake_refusals_total{reason="'
    return {k[len(prefix):-2]: v for k, v in metrics(server).items() if k.startswith(prefix)}


CASES = [
    # (request, status, reason, a fragment of the JSON reason, extra response header)
    (request(version="8"), 426, "version", "speaks 13", ("sec-websocket-version", "13")),
    (request(drop=("Sec-WebSocket-Version",)), 426, "version", "speaks 13",
     ("sec-websocket-version", "13")),
    (request(key="c2hvcnQ="), 400, "key", "16 bytes", None),
    (request(key="!!!!"), 400, "key", "16 bytes", None),
    (request(drop=("Sec-WebSocket-Key",)), 400, "key", "16 bytes", None),
    (request(drop=("Host",)), 400, "host", "Host", None),
    (request(method="POST"), 405, "method", "GET", ("allow", "GET")),
    (request(extra=("X-Big: " + "a" * 17000,)), 431, "headers_too_large", "head over", None),
    (request(path="/nope"), 404, "unknown_room", "unknown room", None),
]


@pytest.fixture
def server():
    with Server("--room", "/news:feed", "--room", "/r:relay", "--handshake-timeout", "500ms") as s:
        yield s


def test_every_bad_handshake_gets_its_answer_and_is_counted(server):
    observer = connect(server.url("/news"))
    assert recv_json(observer)["event"] == "notification"
    expected = {}
    for n, (req, status, reason, fragment, header) in enumerate(CASES):
        got_status, headers, body = raw_http("127.0.0.1", server.port, req)
        assert got_status == status, (reason, body)
        envelope = json.loads(body)
        assert envelope["status"] == status and envelope["event"] == "error"
        assert fragment in envelope["data"], envelope
        if header:
            assert headers.get(header[0]) == header[1]
        expected[reason] = expected.get(reason, 0) + 1
        # Meanwhile the room's other members get every message, in order.
        r = run_wspush("publish", server.url("/news", "http"), str(n))
        assert r.returncode == 0, r.stderr
        assert recv_json(observer)["seq"] == n + 1
    counted = refusals(server)
    for reason, count in expected.items():
        assert counted.get(reason) == count, (reason, counted)
    observer.close()


def test_a_slow_handshake_is_closed_at_the_handshake_timeout(server):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE)
    req = request().encode()
    started = time.monotonic()
    closed = False
    try:
        for byte in req[:-2]:  # one byte every 50 ms: 8 s for the whole request
            sock.sendall(bytes([byte]))
            sock.settimeout(0.05)
            try:
                if sock.recv(1) == b"":
                    closed = True
                    break
            except socket.timeout:
                pass
    except (BrokenPipeError, ConnectionResetError):
        closed = True
    assert closed, "the server kept a slowloris connection"
    assert time.monotonic() - started < 4  # 500 ms timeout, generous margin
    assert refusals(server).get("handshake_timeout", 0) >= 1
    sock.close()


def masked_text(payload):
    mask = b"\x0a\x0b\x0c\x0d"
    n = len(payload)
    head = bytes([0x81]) + (bytes([0x80 | n]) if n < 126 else bytes([0x80 | 126]) + n.to_bytes(2, "big"))
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


@pytest.mark.parametrize("size", [800, 5000, 20000, 60000])
def test_a_frame_sent_with_the_handshake_is_read_whole(server, size):
    data = "x" * size
    frame = masked_text(json.dumps({"event": "publish", "data": data}).encode())
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE)
    sock.sendall(request(path="/r").encode() + frame)  # one write: handshake and frame
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101")
    got = frames(sock, lambda op, p: op == 0x1 and b'"seq"' in p)
    relayed = json.loads(got[-1][1])
    assert relayed["data"] == data and relayed["seq"] >= 1
    sock.close()


def masked(opcode, payload, fin=True):
    mask = b"\x0a\x0b\x0c\x0d"
    head = bytes([(0x80 if fin else 0) | opcode, 0x80 | len(payload)])
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def raw_member(server, path="/r"):
    sock = socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE)
    sock.sendall(request(path=path).encode())
    head = b""
    while b"\r\n\r\n" not in head:
        head += sock.recv(1)
    assert head.startswith(b"HTTP/1.1 101")
    return sock


HOSTILE_FRAMES = {
    # 300 000 empty continuation fragments: refused at the 1025th with 1008.
    "fragment-flood": (lambda: masked(0x1, b"", fin=False) + masked(0x0, b"", fin=False) * 300000,
                       1008),
    # Invalid UTF-8 in a first fragment whose message never ends: 1007 at once.
    "bad-first-fragment": (lambda: masked(0x1, b"ok \xc0\xaf", fin=False), 1007),
    # A ping, then an unmasked frame, in one write: the pong comes first, then 1002.
    "ping-then-violation": (lambda: masked(0x9, b"hi") + b"\x81\x02hi", 1002),
}


@pytest.mark.parametrize("name", sorted(HOSTILE_FRAMES))
def test_hostile_frames_get_their_close_code_while_the_room_goes_on(server, name):
    make, code = HOSTILE_FRAMES[name]
    frames_out = make()
    observer = connect(server.url("/news"))
    assert recv_json(observer)["event"] == "notification"
    sock = raw_member(server)
    try:
        sock.sendall(frames_out)
    except (BrokenPipeError, ConnectionResetError):
        pass  # the server may close before the flood is all written
    got = frames(sock, lambda op, _: op == 0x8)
    assert int.from_bytes(got[-1][1][:2], "big") == code, (name, got[-1])
    if name == "ping-then-violation":
        assert (0xA, b"hi") in got  # handled before the close
    r = run_wspush("publish", server.url("/news", "http"), "after")
    assert r.returncode == 0
    assert recv_json(observer)["data"] == "after"
    sock.close()
    observer.close()
