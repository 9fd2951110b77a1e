"""--allow-origin (SPEC §7) and /readyz (SPEC §4)."""

import json
import signal
import time

from wspush_harness import DEADLINE, Server, never_reading_member, raw_http, run_wspush

UPGRADE = ("GET /r HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n")


def upgrade(port, origin=None):
    return raw_http("127.0.0.1", port, UPGRADE % ("Origin: %s\r\n" % origin if origin else ""))


def test_only_listed_origins_may_connect_and_non_browsers_always(tmp_path):
    with Server("--room", "/r:relay", "--allow-origin", "https://app.example.com",
                "--allow-origin", "*.trusted.org") as s:
        assert upgrade(s.port, "https://app.example.com")[0] == 101
        assert upgrade(s.port, "https://x.trusted.org")[0] == 101
        assert upgrade(s.port)[0] == 101  # no Origin: not a browser
        status, _, body = upgrade(s.port, "https://evil.example")
        assert status == 403 and "not allowed" in json.loads(body)["data"]
        r = run_wspush("client", s.url("/r"), "--origin", "https://evil.example", "--count", "1")
        assert r.returncode == 5 and "403" in r.stderr
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"allow_origin": ["https://only.example"],
                                  "rooms": [{"path": "/r", "kind": "relay"}]}))
    with Server("--config", str(config)) as s:
        assert upgrade(s.port, "https://only.example")[0] == 101
        assert upgrade(s.port, "https://other.example")[0] == 403


def readyz(port):
    """The status of GET /readyz, or None for a connection dropped by the drain's start
    (a request in flight when the signal lands is dropped like a handshake)."""
    try:
        return raw_http("127.0.0.1", port, "GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")[0]
    except (IndexError, ConnectionError):
        return None


def test_readyz_says_503_while_draining_and_new_clients_are_turned_away():
    with Server("--room", "/r:relay", "--drain-timeout", "3s", "--close-timeout", "60s") as s:
        assert readyz(s.port) == 200
        stuck = never_reading_member(s.port, "/r")  # keeps the drain going
        s.signal(signal.SIGTERM)
        end = time.monotonic() + DEADLINE
        while readyz(s.port) != 503:
            assert time.monotonic() < end
            time.sleep(0.02)
        status, _, body = upgrade(s.port)
        assert status == 503 and "shutting down" in json.loads(body)["data"]
        assert s.wait() == 0
        stuck.close()
