"""Slow consumers (SPEC §6): a member that never reads is cut off (`disconnect`) or
only gets the newest message (`latest`); the rest of the room is untouched."""

import json
import subprocess
import tempfile
import time

import pytest

from wspush_harness import (DEADLINE, Server, flood_until_closed, frames, never_reading_member,
                            raw_http, run_wspush, wspush_binary)

N = 3000
BODY = "y" * 2000  # 3000 x 2 KB: far more than the 1 MiB send buffer and the kernel's


def publish_all(server, path):
    lines = "".join(json.dumps({"n": i, "pad": BODY}) + "\n" for i in range(N))
    # A few events in flight at a time: a burst as fast as the machine allows would
    # leave even a reading member 1 MiB behind on 2 busy cores.
    r = run_wspush("publish", server.url(path, "http"), "--window", "8", input=lines)
    assert r.returncode == 0, r.stderr


class FastMember:
    """A `wspush client` writing to a file (a pipe nobody reads would make it slow)."""

    def __init__(self, server, path, members=2):
        self.out = tempfile.TemporaryFile()
        self.err = tempfile.TemporaryFile()
        self.proc = subprocess.Popen([wspush_binary(), "client", server.url(path), "--count",
                                      str(N + 1)], stdout=self.out, stderr=self.err,
                                     stdin=subprocess.DEVNULL)
        end = time.monotonic() + DEADLINE
        while room(server, path.split("?")[0])["members"] < members:  # joined: a bounded poll
            assert time.monotonic() < end, "the member did not join"
            time.sleep(0.01)

    def result(self):
        code = self.proc.wait(timeout=DEADLINE * 3)
        self.out.seek(0)
        self.err.seek(0)
        return code, [json.loads(l) for l in self.out.read().splitlines()[1:]], self.err.read()


def room(server, path):
    status, _, body = raw_http("127.0.0.1", server.port,
                               "GET /api/rooms HTTP/1.1\r\nHost: x\r\n\r\n")
    return [r for r in json.loads(body)["rooms"] if r["path"] == path][0]


@pytest.mark.parametrize("send_path", ["sendmsg", "io_uring"])
def test_disconnect_policy_cuts_the_slow_member_and_spares_the_others(send_path):
    # Two event loops: sessions go to them in turn, so each loop has a slow member.
    with Server("--room", "/news:feed", "--history", "10", "--threads", "2", "--send-path",
                send_path) as s:
        slow = [never_reading_member(s.port, "/news") for _ in range(2)]
        fast = FastMember(s, "/news", members=3)
        publish_all(s, "/news")
        code, got, err = fast.result()
        assert code == 0, err
        assert [m["data"]["n"] for m in got] == list(range(N))
        assert room(s, "/news")["disconnected"] == 2
        for sock in slow:
            got = frames(sock, lambda op, _: op == 0x8)
            close = got[-1][1]
            assert int.from_bytes(close[:2], "big") == 4008
            reason = close[2:].decode()
            seqs = [json.loads(p)["seq"] for op, p in got if op == 0x1 and b'"seq"' in p]
            # The reason names the last seq delivered, so the client can resume from it.
            assert reason == "slow consumer: last seq %d" % seqs[-1]
            assert seqs == list(range(1, len(seqs) + 1)) and len(seqs) < N
            sock.close()


@pytest.mark.parametrize("send_path", ["sendmsg", "io_uring"])
def test_latest_policy_keeps_only_the_newest_for_the_slow_member(tmp_path, send_path):
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"rooms": [{"path": "/prices", "kind": "feed",
                                             "slow_consumer": "latest"}]}))
    with Server("--config", str(config), "--send-path", send_path) as s:
        slow = never_reading_member(s.port, "/prices")
        fast = FastMember(s, "/prices")
        publish_all(s, "/prices")
        code, got, err = fast.result()
        assert code == 0 and len(got) == N, err
        info = room(s, "/prices")
        assert info["slow_consumer"] == "latest" and info["disconnected"] == 0
        assert info["dropped"] > 0
        # Reading at last, the slow member still ends with the newest message.
        got = frames(slow, lambda op, p: op == 0x1 and b'"seq":%d' % N in p)
        seqs = [json.loads(p)["seq"] for op, p in got if b'"seq"' in p]
        assert seqs == sorted(seqs) and seqs[-1] == N
        assert len(seqs) + info["dropped"] == N
        slow.close()


def test_a_client_that_sends_without_reading_is_cut_off():
    with Server("--room", "/news", "--send-buffer", "65536") as s:
        slow = never_reading_member(s.port, "/news")
        ping = b'{"event":"ping"}'
        frame = bytes([0x81, 0x80 | len(ping)]) + b"\0\0\0\0" + ping  # masked with zeros
        assert flood_until_closed(slow, frame) == 4008
        slow.close()
        r = run_wspush("client", s.url("/news"), "--count", "1")
        assert r.returncode == 0


def test_a_replay_counts_against_the_send_buffer():
    # 3000 retained events of 2 KB (6 MB) and a 16 KiB send buffer. The replay goes out
    # as the member reads: one that reads gets all of it; one that does not holds at
    # most the send buffer (plus the kernel's), and is cut by the room's policy once
    # live messages pile up behind its replay.
    with Server("--room", "/news:feed", "--history", str(N), "--send-buffer", "16384") as s:
        publish_all(s, "/news")
        fast = FastMember(s, "/news?since=0", members=1)
        code, got, err = fast.result()
        assert code == 0, err
        assert [m.get("seq") for m in got[1:]] == list(range(1, N))

        slow = never_reading_member(s.port, "/news?since=0")
        r = run_wspush("publish", s.url("/news", "http"), input="".join(
            json.dumps({"live": i, "pad": BODY}) + "\n" for i in range(20)))
        assert r.returncode == 0, r.stderr
        got = frames(slow, lambda op, _: op == 0x8)
        code, reason = int.from_bytes(got[-1][1][:2], "big"), got[-1][1][2:].decode()
        assert code == 4008, reason
        # It got every replayed message up to the seq its close names, in order, no more.
        seqs = [json.loads(p)["seq"] for op, p in got if op == 0x1 and b'"seq"' in p]
        last = int(reason.rsplit(" ", 1)[1])
        assert reason == "slow consumer: last seq %d" % last
        assert seqs == list(range(1, last + 1))
        assert 0 < last < N
        assert room(s, "/news")["disconnected"] == 1
        slow.close()
