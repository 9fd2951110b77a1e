"""permessage-deflate (SPEC §6.1, issue #29) against the real binary: what goes on the
wire, read off raw sockets, and a real library client (Python's websockets) through it."""

import asyncio
import base64
import hashlib
import json
import socket
import threading
import zlib

import pytest
import websockets

from raw_socket import client_frame, frames_raw, upgrade
from wspush_harness import DEADLINE, Server, connect, metrics, post, recv_json, run_wspush

OFFER = "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"
AGREED = "permessage-deflate; server_no_context_takeover; client_no_context_takeover"
RSV1 = 0x40
# A price update as a trading app would push it: 1 KiB of JSON that repeats its keys.
UPDATE = {"symbol": "ACME", "ticks": [{"bid": 100.25 + i / 100, "ask": 100.5 + i / 100,
                                       "size": 300 + i, "venue": "XNAS"} for i in range(14)]}


def member(port, path, extensions=OFFER):
    s = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
    return s, upgrade(s, path, [extensions] if extensions else [])


def inflate(payload):
    """RFC 7692 §7.2.2: the sender stripped 00 00 ff ff; put it back and inflate."""
    return zlib.decompressobj(-15).decompress(payload + b"\x00\x00\xff\xff")


def next_text(sock):
    """(first byte, payload) of the next text frame."""
    return frames_raw(sock, lambda opcode, _: opcode == 0x1)[-1]


def test_a_room_message_is_compressed_once_for_those_that_agreed_and_plain_for_the_rest():
    with Server("--room", "/news", "--history", "100") as s:
        a, headers_a = member(s.port, "/news")
        b, headers_b = member(s.port, "/news")
        assert headers_a["sec-websocket-extensions"] == AGREED == headers_b[
            "sec-websocket-extensions"]
        plain = connect(s.url("/news"))  # websocket-client offers no extension
        for sock in (a, b):
            first, payload = next_text(sock)
            assert first & RSV1 == 0 and json.loads(payload)["data"] == "Welcome"  # < 128 B
        recv_json(plain)

        assert post(s, "/news", UPDATE) == 1
        first_a, wire_a = next_text(a)
        first_b, wire_b = next_text(b)
        assert first_a & RSV1 and first_b & RSV1
        assert wire_a == wire_b  # one compressed frame for both
        as_sent = plain.recv()
        assert inflate(wire_a).decode() == as_sent
        assert json.loads(as_sent) == {"status": 200, "event": "message", "data": UPDATE,
                                       "seq": 1}
        assert len(wire_a) * 3 < len(as_sent)  # JSON that repeats itself: 3x smaller or more

        assert post(s, "/news", "short") == 2  # under --compression-min-size: plain
        first, payload = next_text(a)
        assert first & RSV1 == 0 and json.loads(payload)["data"] == "short"

        # A replay reuses the frame the live members got.
        late, _ = member(s.port, "/news?since=0")
        got = frames_raw(late, lambda opcode, payload: b'"short"' in payload)
        texts = [(first, payload) for first, payload in got if first & 0x0F == 0x1]
        assert (0x80 | RSV1 | 0x1, wire_a) in texts
        for sock in (a, b, late):
            sock.close()
        plain.close()


def test_compression_off_or_a_small_window_means_plain_frames():
    with Server("--room", "/news", "--compression", "off") as s:
        sock, headers = member(s.port, "/news")
        assert "sec-websocket-extensions" not in headers
        next_text(sock)
        post(s, "/news", UPDATE)
        first, payload = next_text(sock)
        assert first & RSV1 == 0 and json.loads(payload)["data"] == UPDATE
        sock.close()
    with Server("--room", "/news") as s:
        # It asks the server to compress with a window of 2^10: agreed, then sent plain
        # (compressing for it alone would undo compress-once).
        sock, headers = member(
            s.port, "/news", "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=10")
        assert headers["sec-websocket-extensions"] == AGREED + "; server_max_window_bits=10"
        next_text(sock)
        post(s, "/news", UPDATE)
        first, payload = next_text(sock)
        assert first & RSV1 == 0 and json.loads(payload)["data"] == UPDATE
        sock.close()


def compressed(data, final=False):
    """RFC 7692 §7.2.1: raw deflate, the 00 00 ff ff of a sync flush dropped; or, as the
    RFC allows too, a stream ended with a final block."""
    c = zlib.compressobj(9, zlib.DEFLATED, -15)
    if final:
        return c.compress(data) + c.flush(zlib.Z_FINISH)
    out = c.compress(data) + c.flush(zlib.Z_SYNC_FLUSH)
    assert out.endswith(b"\x00\x00\xff\xff")
    return out[:-4]


def test_client_messages_are_inflated_and_a_bomb_is_closed_with_1009():
    with Server("--room", "/echo:echo", "--max-message-size", "64KiB") as s:
        sock, headers = member(s.port, "/echo")
        assert headers["sec-websocket-extensions"] == AGREED
        message = json.dumps(UPDATE).encode()
        sock.sendall(client_frame(compressed(message), rsv1=True))
        first, payload = next_text(sock)
        assert first & RSV1 and inflate(payload) == message  # echoed, compressed again
        # 16 MiB of spaces in ~16 KiB on the wire: over the limit once inflated.
        bomb = compressed(b" " * (16 << 20))
        assert len(bomb) < 64 << 10
        sock.sendall(client_frame(bomb, rsv1=True))
        got = frames_raw(sock, lambda opcode, _: opcode == 0x8)
        assert int.from_bytes(got[-1][1][:2], "big") == 1009
        sock.close()
        # The server is fine: the next member is served.
        again, _ = member(s.port, "/echo")
        again.sendall(client_frame(b'"hi"'))
        assert next_text(again)[1] == b'"hi"'
        again.close()


def test_pythons_websockets_negotiates_it_and_reads_every_message():
    async def run(url, port):
        async with websockets.connect(url, max_size=None) as ws:  # offers deflate by default
            assert ws.response_headers["Sec-WebSocket-Extensions"] == AGREED
            assert json.loads(await ws.recv())["data"] == "Welcome"
            for n in range(1, 6):
                await asyncio.get_running_loop().run_in_executor(
                    None, post, server, "/news", dict(UPDATE, n=n))
                got = json.loads(await asyncio.wait_for(ws.recv(), DEADLINE))
                assert got["seq"] == n and got["data"]["n"] == n

    with Server("--room", "/news") as server:
        asyncio.run(run(server.url("/news"), server.port))


def server_frame(payload, rsv1=True, opcode=0x1):
    n = len(payload)
    head = bytes([0x80 | (0x40 if rsv1 else 0) | opcode])
    head += bytes([n]) if n < 126 else bytes([126]) + n.to_bytes(2, "big") if n < 65536 \
        else bytes([127]) + n.to_bytes(8, "big")
    return head + payload


class HandMadeServer:
    """One WebSocket connection served by hand, to see what the client offers and sends
    and to send it what no wspush server would (a final block, a bomb)."""

    def __init__(self, answer, send):
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.answer, self.send = answer, send
        self.offer, self.received, self.error = None, [], None
        self.thread = threading.Thread(target=self.serve, daemon=True)
        self.thread.start()

    def serve(self):
        try:
            self.listener.settimeout(DEADLINE)
            conn, _ = self.listener.accept()
            with conn:
                conn.settimeout(DEADLINE)
                head = b""
                while b"\r\n\r\n" not in head:
                    head += conn.recv(1)
                headers = {k.strip().lower(): v.strip() for k, _, v in
                           (line.partition(":") for line in head.decode().split("\r\n")[1:])}
                self.offer = headers.get("sec-websocket-extensions")
                accept = base64.b64encode(hashlib.sha1(
                    (headers["sec-websocket-key"] + "258EAFA5-E914-47DA-95CA-C5AB0DC85B11")
                    .encode()).digest()).decode()
                conn.sendall(("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                              "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n"
                              "Sec-WebSocket-Extensions: %s\r\n\r\n" % (accept, self.answer))
                             .encode())
                self.received.append(self.read_frame(conn))  # the client's --send
                conn.sendall(b"".join(self.send))
                self.received.append(self.read_frame(conn))  # its close
        except Exception as e:  # noqa: BLE001 (said in the test)
            self.error = e

    @staticmethod
    def read_frame(conn):
        def need(n):
            data = b""
            while len(data) < n:
                chunk = conn.recv(n - len(data))
                if not chunk:
                    raise AssertionError("the client went away")
                data += chunk
            return data
        first, second = need(2)
        n = second & 0x7F
        n = int.from_bytes(need(2 if n == 126 else 8), "big") if n >= 126 else n
        key = need(4)
        payload = bytes(b ^ key[i % 4] for i, b in enumerate(need(n)))
        return first, payload


@pytest.mark.parametrize("mode", ["--async", "--sync"])
def test_wspush_client_compress_offers_inflates_and_compresses(mode):
    sent = json.dumps(UPDATE)
    first, second = json.dumps({"n": 1, **UPDATE}), json.dumps({"n": 2, **UPDATE})
    server = HandMadeServer(
        "permessage-deflate; server_no_context_takeover",
        [server_frame(compressed(first.encode())),
         server_frame(compressed(second.encode(), final=True)),  # a final block: allowed
         server_frame(b"\x03\xe8", rsv1=False, opcode=0x8)])
    r = run_wspush("client", "ws://127.0.0.1:%d/" % server.port, mode, "--compress",
                   "--send", sent)
    server.thread.join(DEADLINE)
    assert server.error is None, server.error
    assert server.offer == "permessage-deflate; client_no_context_takeover; client_max_window_bits"
    assert r.returncode == 0, r.stderr
    assert [json.loads(line) for line in r.stdout.splitlines()] == [json.loads(first),
                                                                     json.loads(second)]
    flags, payload = server.received[0]
    assert flags & RSV1 and inflate(payload).decode() == sent  # compressed on its way up


@pytest.mark.parametrize("mode", ["--async", "--sync"])
def test_wspush_client_compress_stops_a_bomb_at_its_max_message_size(mode):
    bomb = server_frame(compressed(b" " * (16 << 20)))
    server = HandMadeServer("permessage-deflate", [bomb])
    r = run_wspush("client", "ws://127.0.0.1:%d/" % server.port, mode, "--compress",
                   "--send", "{}", "--max-message-size", "1MiB")
    server.thread.join(DEADLINE)
    assert r.returncode == 6, r.stderr
    assert "1009" in r.stderr
    assert server.received[1][1][:2] == (1009).to_bytes(2, "big")  # its close said why


def test_wspush_client_without_compress_offers_nothing():
    server = HandMadeServer("permessage-deflate", [server_frame(b"\x03\xe8", False, 0x8)])
    run_wspush("client", "ws://127.0.0.1:%d/" % server.port, "--send", "{}")
    server.thread.join(DEADLINE)
    assert server.error is None and server.offer is None


def test_a_browser_negotiates_it_for_the_live_page_and_wspush_js():
    """Headless Chromium offers permessage-deflate by itself: the live page and a page
    importing /wspush.js (through its SharedWorker) agree on it and show what the server
    sent compressed."""
    from chromium import Chromium

    with Server("--room", "/news", "--history", "10") as s, Chromium() as browser:
        # A WebSocket of the page's own: what the browser reports it agreed on.
        browser.open(s.url("/", "http"))
        browser.evaluate("window.ws = new WebSocket('ws://' + location.host + '/news');"
                         "window.seen = []; ws.onmessage = (e) => seen.push(e.data); true")
        browser.wait_for("ws.readyState === 1", "the page's WebSocket")
        assert browser.evaluate("ws.extensions") == AGREED
        # /wspush.js, shared between tabs through its worker.
        browser.evaluate("""(async () => {
          window.got = [];
          const { connect } = await import('/wspush.js');
          window.client = connect('ws://' + location.host + '/');
          client.subscribe('/news', (m) => got.push(m));
          return true;
        })()""")
        browser.wait_for("got.some(m => m.event === 'subscribed')", "the subscription")
        page = browser.tab(s.url("/news", "http"))  # the live page of the room
        page.wait_for("document.body.innerText.includes('subscribed')", "the live page")
        assert post(s, "/news", UPDATE) == 1
        browser.wait_for("got.some(m => m.event === 'message' && m.seq === 1)",
                         "the message through /wspush.js")
        assert browser.evaluate("got.find(m => m.seq === 1).data") == UPDATE
        browser.wait_for("seen.length === 2", "the message on the page's WebSocket")
        assert json.loads(browser.evaluate("seen[1]"))["data"] == UPDATE
        page.wait_for("document.body.innerText.includes('ACME')", "the message on the live page")
        # Every connection the browser opened agreed: the page's own, and the one the
        # live page and /wspush.js share through the worker (same origin).
        m = metrics(s)
        assert m["wspush_connections_open"] == 2
        assert m["wspush_deflate_sessions_total"] == 2
