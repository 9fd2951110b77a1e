"""The server's timeouts (--handshake-timeout, --close-timeout, --drain-timeout), each
set far below its 5 s default so that a test fails if its flag is not honoured."""

import json
import signal
import socket
import time

import pytest

from wspush_harness import DEADLINE, Server, frames, never_reading_member, run_wspush

SHORT_WAIT = 3.0  # well above each short timeout below, well below the 5 s defaults


def closed_within(sock, seconds):
    """Whether the server ends the TCP connection within `seconds` (reading all)."""
    sock.settimeout(seconds)
    end = time.monotonic() + seconds
    try:
        while time.monotonic() < end:
            if not sock.recv(65536):
                return True
    except ConnectionResetError:
        return True
    except socket.timeout:
        return False
    return False


def test_a_silent_connection_is_dropped_after_the_handshake_timeout():
    with Server("--room", "/r:relay", "--handshake-timeout", "300ms") as s:
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=DEADLINE)
        assert closed_within(sock, SHORT_WAIT)
        sock.close()


def test_a_client_that_never_answers_the_close_is_dropped_after_the_close_timeout():
    with Server("--room", "/r:relay", "--close-timeout", "300ms") as s:
        sock = never_reading_member(s.port, "/r")
        # {"event":"close"}: the bye, then after the linger our close frame, never answered.
        payload = b'{"event":"close"}'
        mask = b"\x01\x02\x03\x04"
        sock.sendall(bytes([0x81, 0x80 | len(payload)]) + mask +
                     bytes(b ^ mask[i % 4] for i, b in enumerate(payload)))
        got = frames(sock, lambda op, _: op == 0x8)
        assert json.loads(got[-2][1])["event"] == "bye"
        assert int.from_bytes(got[-1][1][:2], "big") == 1000
        assert closed_within(sock, SHORT_WAIT)
        sock.close()


def test_shutdown_waits_no_longer_than_the_drain_timeout():
    # The close timeout is long: only the drain deadline can end this quickly.
    with Server("--room", "/r:relay", "--drain-timeout", "300ms", "--close-timeout", "60s") as s:
        sock = never_reading_member(s.port, "/r")
        started = time.monotonic()
        s.signal(signal.SIGTERM)
        assert s.wait(timeout=SHORT_WAIT) == 0
        assert time.monotonic() - started < SHORT_WAIT
        sock.close()


@pytest.mark.parametrize("flag", ["--handshake-timeout", "--drain-timeout", "--close-timeout"])
def test_timeouts_need_a_unit(flag):
    r = run_wspush("serve", "--port", "0", flag, "5")
    assert r.returncode == 2
    assert flag in r.stderr and "unit" in r.stderr


def test_timeouts_come_from_the_config_file_and_flags_override_it(tmp_path):
    config = tmp_path / "wspush.json"
    config.write_text(json.dumps({"rooms": [{"path": "/r", "kind": "relay"}],
                                  "handshake_timeout": "300ms", "close_timeout": "1s"}))
    with Server("--config", str(config)) as s:
        sock = socket.create_connection(("127.0.0.1", s.port), timeout=DEADLINE)
        assert closed_within(sock, SHORT_WAIT)
        sock.close()
    config.write_text(json.dumps({"handshake_timeout": "oops"}))
    r = run_wspush("serve", "--port", "0", "--config", str(config))
    assert r.returncode == 2 and "--handshake-timeout" in r.stderr


def test_shutdown_spreads_the_closes_over_the_drain():
    # 200 members and a 2 s drain: the 1001s go out over about 1 s, not at one instant,
    # so that reconnecting clients do not all arrive together.
    with Server("--room", "/r:relay", "--drain-timeout", "2s", "--threads", "1") as s:
        members = [never_reading_member(s.port, "/r") for _ in range(200)]
        for m in members:
            frames(m, lambda op, _: op == 0x1)  # the welcome: joined
        s.signal(signal.SIGTERM)
        arrived = []
        for m in members:
            m.settimeout(DEADLINE)
        pending = list(members)
        end = time.monotonic() + DEADLINE
        import select
        while pending and time.monotonic() < end:
            ready, _, _ = select.select(pending, [], [], 0.5)
            for m in ready:
                if m.recv(65536):
                    arrived.append(time.monotonic())
                pending.remove(m)
        assert len(arrived) == 200
        assert max(arrived) - min(arrived) > 0.3, "every close at the same moment"
        assert s.wait() == 0
        for m in members:
            m.close()
