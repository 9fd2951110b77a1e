"""Churn (SPEC §6): many short connections leave nothing behind, and a crowd that drops
and comes back at once is served within the handshake rate, losing nothing."""

import asyncio
import json
import os
import socket
import time

import pytest
import websockets  # Debian's python3-websockets

from wspush_harness import DEADLINE, Server, metrics, raw_http, run_wspush

UPGRADE = ("GET /r HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n").encode()


def fds(pid):
    return len(os.listdir("/proc/%d/fd" % pid))


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        return int([l for l in f if l.startswith("VmRSS:")][0].split()[1])


def open_gauge(server):
    return metrics(server)["wspush_connections_open"]


def cycles(port, n):
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=DEADLINE)
        s.sendall(UPGRADE)
        got = b""
        while b'"Welcome"' not in got:
            chunk = s.recv(4096)
            assert chunk, "closed before the welcome"
            got += chunk
        s.close()


def settle(server, pid, want_fds):
    """Waits for every session to be gone, then for the descriptors to come back. Asking
    /metrics opens a connection of its own (kept alive until the test closes it), so the
    descriptors are counted last, without asking anything."""
    end = time.monotonic() + DEADLINE
    while open_gauge(server) and time.monotonic() < end:
        time.sleep(0.05)
    while fds(pid) > want_fds and time.monotonic() < end:
        time.sleep(0.05)


def test_ten_thousand_connect_close_cycles_leave_nothing_behind():
    with Server("--room", "/r:relay", "--handshake-rate", "0") as s:
        pid = s.proc.pid
        base_fds = fds(pid)  # before any connection (nothing is opened lazily)
        cycles(s.port, 1000)  # warm up: the allocator's pools, the loops' vectors
        settle(s, pid, base_fds)
        assert fds(pid) == base_fds
        base_rss = rss_kib(pid)
        cycles(s.port, 10000)
        settle(s, pid, base_fds)
        assert fds(pid) == base_fds
        assert open_gauge(s) == 0
        # 10 000 more connections: a leak of one small block each would be > 500 KiB.
        # (Not under the sanitizers: ASan keeps freed memory in quarantine on purpose.)
        if not (os.environ.get("ASAN_OPTIONS") or os.environ.get("TSAN_OPTIONS")):
            assert rss_kib(pid) - base_rss < 512, (base_rss, rss_kib(pid))


async def crowd(url, n, since, expect):
    """n members join `url` with ?since=, retrying on 503 after Retry-After; each returns
    the seqs it got. Returns (seqs per member, 503s seen)."""
    refused = 0

    async def member():
        nonlocal refused
        for _ in range(50):
            try:
                async with websockets.connect("%s?since=%d" % (url, since), open_timeout=DEADLINE,
                                              ping_interval=None, max_queue=None) as ws:
                    got = [json.loads(await asyncio.wait_for(ws.recv(), DEADLINE))
                           for _ in range(2 + expect)]
                    assert got[0]["event"] == "notification"
                    assert got[1]["event"] == "recovery" and got[1]["data"]["recovered"] is True
                    ws.transport.abort()  # the connection drops, no closing handshake
                    return [m["seq"] for m in got[2:]]
            except websockets.InvalidStatusCode as e:
                assert e.status_code == 503
                refused += 1
                await asyncio.sleep(int(e.headers["Retry-After"]))
        raise AssertionError("not served after 50 tries")

    results = await asyncio.gather(*(member() for _ in range(n)))
    return results, refused


def test_two_thousand_members_dropping_and_coming_back_at_once_lose_nothing():
    with Server("--room", "/news:feed", "--history", "200", "--handshake-rate", "400") as s:
        url = s.url("/news")
        r = run_wspush("publish", s.url("/news", "http"), input="".join("%d\n" % i for i in range(50)))
        assert r.returncode == 0, r.stderr
        # They all come back at once, 50 messages behind: the bucket (800) lets part of
        # them in, the rest are told when to retry; every one gets 1..50, once, in order.
        results, refused = asyncio.run(crowd(url, 2000, 0, 50))
        assert refused > 0, "the rate limit was never reached: the test proves nothing"
        assert all(seqs == list(range(1, 51)) for seqs in results)
        # And again, from where they were, while the stream went on.
        r = run_wspush("publish", s.url("/news", "http"), input="".join("%d\n" % i for i in range(50)))
        assert r.returncode == 0, r.stderr
        results, refused = asyncio.run(crowd(url, 2000, 50, 50))
        assert all(seqs == list(range(51, 101)) for seqs in results)
