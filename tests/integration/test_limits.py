"""Limits and keepalive (SPEC §6): each limit's documented answer, pings and their
timeout, and the descriptor limit reached and recovered from."""

import json
import os
import resource
import socket
import subprocess
import time

import pytest

from wspush_harness import (DEADLINE, Server, Stream, connect, frames, never_reading_member,
                            metrics, raw_http, read_line, recv_close, recv_json, run_wspush, wspush_binary)

UPGRADE = ("GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n")


def upgrade(port, path):
    return raw_http("127.0.0.1", port, UPGRADE % path)


def joined(server, path="/r"):
    ws = connect(server.url(path))
    assert recv_json(ws)["event"] == "notification"
    return ws


def test_a_peer_that_never_answers_pings_is_closed_with_4009():
    with Server("--room", "/r:relay", "--ping-interval", "200ms", "--pong-timeout", "300ms") as s:
        alive = Stream(s.url("/r"))  # wspush client: it answers pings as they come
        assert alive.read(1)[0]["event"] == "notification"
        dead = never_reading_member(s.port, "/r")
        got = frames(dead, lambda op, _: op == 0x8)
        assert 0x9 in [op for op, _ in got]  # it was pinged first
        assert int.from_bytes(got[-1][1][:2], "big") == 4009
        assert b"ping timeout" in got[-1][1]
        time.sleep(1.0)  # several ping periods: the live member must still be there
        r = run_wspush("publish", s.url("/r", "http"), "1")
        assert r.returncode == 0, r.stderr
        assert alive.read(1)[0]["data"] == 1
        m = metrics(s)
        assert m["wspush_ping_timeouts_total"] == 1 and m["wspush_pings_sent_total"] >= 2
        dead.close()
        alive.__exit__()


def test_an_idle_member_is_closed_with_4010():
    with Server("--room", "/r:relay", "--idle-timeout", "300ms") as s:
        ws = joined(s)
        assert recv_close(ws)[0] == 4010
        assert metrics(s)["wspush_idle_timeouts_total"] == 1


def test_max_connections_in_all_and_per_address():
    with Server("--room", "/r:relay", "--max-connections", "3") as s:
        members = [joined(s) for _ in range(3)]
        status, headers, body = upgrade(s.port, "/r")
        assert status == 503 and int(headers["retry-after"]) >= 1
        assert "limit of 3 connections" in json.loads(body)["data"]
        members.pop().close()
        deadline = time.monotonic() + DEADLINE
        while upgrade(s.port, "/r")[0] != 101:  # room again, soon
            assert time.monotonic() < deadline
            time.sleep(0.05)
        assert metrics(s)['wspush_handshake_refusals_total{reason="max_connections"}'] >= 1
    with Server("--room", "/r:relay", "--max-connections-per-ip", "2") as s:
        members = [joined(s) for _ in range(2)]
        status, _, body = upgrade(s.port, "/r")
        assert status == 503 and "this address" in json.loads(body)["data"]


def test_handshake_rate_answers_503_with_retry_after():
    with Server("--room", "/r:relay", "--handshake-rate", "5") as s:
        answers = [upgrade(s.port, "/r") for _ in range(20)]
        statuses = [a[0] for a in answers]
        assert statuses.count(101) >= 10  # the burst: twice the rate
        refused = [a for a in answers if a[0] == 503]
        assert refused and all(int(a[1]["retry-after"]) >= 1 for a in refused)
        assert metrics(s)['wspush_handshake_refusals_total{reason="handshake_rate"}'] == len(refused)


def test_long_paths_and_full_families_are_refused():
    with Server("--room", "/chat/*:relay", "--max-path-length", "16",
                "--max-rooms-per-family", "2") as s:
        assert upgrade(s.port, ("/chat/" + "a" * 20))[0] == 414
        a, b = joined(s, "/chat/a"), joined(s, "/chat/b")
        status, headers, body = upgrade(s.port, "/chat/c")
        assert status == 503 and "room limit" in json.loads(body)["data"]
        a.close()  # /chat/a had no message: it goes, and makes room
        deadline = time.monotonic() + DEADLINE
        while upgrade(s.port, "/chat/c")[0] != 101:
            assert time.monotonic() < deadline
            time.sleep(0.05)
        b.close()


def test_json_nested_too_deep_is_a_400_and_the_connection_stays():
    with Server("--room", "/r:relay", "--max-message-size", "1MiB") as s:
        ws = joined(s)
        ws.send('{"event":"publish","data":' + "[" * 100000 + "]" * 100000 + "}")
        error = recv_json(ws)
        assert error["status"] == 400 and "deeper than 64" in error["data"]
        ws.send(json.dumps({"event": "publish", "data": [[1]]}))
        assert recv_json(ws)["data"] == [[1]]
        ws.close()


def test_the_descriptor_limit_is_reached_and_recovered_from():
    # The sanitizer runtimes need descriptors of their own (UBSan's vptr check probes
    # memory through a pipe, which fails with EMFILE and reports a valid object as
    # "invalid vptr"; valgrind on the plain build finds nothing), so this test, which
    # runs the server out of descriptors on purpose, runs in the plain build only.
    if os.environ.get("ASAN_OPTIONS") or os.environ.get("TSAN_OPTIONS"):
        pytest.skip("exhausts descriptors, which the sanitizer runtimes need")
    limit = 48

    def low_fd_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit))

    proc = subprocess.Popen([wspush_binary(), "serve", "--host", "127.0.0.1", "--port", "0",
                             "--room", "/r:relay", "--log-level", "info"],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, preexec_fn=low_fd_limit)
    try:
        port = json.loads(read_line(proc.stdout, DEADLINE))["port"]
        socks = []
        for _ in range(limit + 20):  # past the limit: the kernel queues the rest
            s = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
            s.sendall((UPGRADE % "/r").encode())
            socks.append(s)
        time.sleep(0.3)
        with open("/proc/%d/stat" % proc.pid) as f:
            before = sum(int(x) for x in f.read().split()[13:15])
        time.sleep(2.0)
        with open("/proc/%d/stat" % proc.pid) as f:
            after = sum(int(x) for x in f.read().split()[13:15])
        ticks = os.sysconf("SC_CLK_TCK")
        assert (after - before) / ticks < 0.5, "the accept loop spins at the descriptor limit"
        for s in socks[:-1]:  # free descriptors: the one still waiting is served
            s.close()
        last = socks[-1]
        last.settimeout(DEADLINE)
        assert last.recv(12) == b"HTTP/1.1 101"
        last.close()
    finally:
        proc.terminate()
        proc.wait(timeout=DEADLINE)
    assert b"cannot accept connections" in proc.stderr.read()
