"""The broadcast engine: WebSocket framing after the handshake (RFC 6455) and delivery
across several event loops (serve --threads), on the real binary."""

import errno
import json

import pytest
import seccomp

from wspush_harness import (DEADLINE, Server, Stream, flood_until_closed, frames,
                            never_reading_member, run_wspush)

WELCOME = {"status": 200, "event": "notification", "data": "Welcome"}
# Both ways of handing a loop turn's sends to the kernel (serve --send-path).
SEND_PATHS = pytest.mark.parametrize("send_path", ["sendmsg", "io_uring"])


def client_frame(opcode, payload, mask=b"\x12\x34\x56\x78", fin=True):
    head = bytes([(0x80 if fin else 0) | opcode])
    n = len(payload)
    bit = 0x80 if mask else 0
    if n < 126:
        head += bytes([bit | n])
    else:
        head += bytes([bit | 126]) + n.to_bytes(2, "big")
    if not mask:
        return head + payload
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(payload))


def text_frames(got):
    return [json.loads(p) for op, p in got if op == 0x1]


@pytest.fixture(scope="module")
def server():
    with Server("--room", "/r:relay", "--room", "/news", "--threads", "2") as s:
        yield s


def assert_closed_by_server(sock):
    """The server closes the TCP connection within the deadline (else socket.timeout)."""
    sock.settimeout(DEADLINE)
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass


def test_an_unmasked_client_frame_closes_with_1002(server):
    sock = never_reading_member(server.port, "/r")
    sock.sendall(client_frame(0x1, b'{"event":"ping"}', mask=None))
    got = frames(sock, lambda op, _: op == 0x8)
    assert int.from_bytes(got[-1][1][:2], "big") == 1002
    assert got[-1][1][2:]  # a reason
    assert_closed_by_server(sock)
    sock.close()


def test_a_frame_in_the_handshake_packet_is_answered(server):
    ping = client_frame(0x1, b'{"event":"ping"}')
    sock = never_reading_member(server.port, "/r", first_frames=ping)
    got = frames(sock, lambda op, p: op == 0x1 and b'"pong"' in p)
    assert text_frames(got)[-1]["event"] == "pong"
    sock.close()


def test_ping_is_answered_with_a_pong_carrying_its_data(server):
    sock = never_reading_member(server.port, "/r")
    sock.sendall(client_frame(0x9, b"are you there"))
    got = frames(sock, lambda op, _: op == 0xA)
    assert got[-1] == (0xA, b"are you there")
    sock.close()


@SEND_PATHS
def test_control_pings_without_reading_are_cut_off_with_4008(send_path):
    with Server("--room", "/r:relay", "--send-buffer", "65536", "--send-path", send_path) as s:
        sock = never_reading_member(s.port, "/r")
        assert flood_until_closed(sock, client_frame(0x9, b"p" * 125)) == 4008  # 26 MB owed
        sock.close()
        r = run_wspush("client", s.url("/r"), "--count", "1")
        assert r.returncode == 0, r.stderr  # the server is unharmed


def test_client_close_is_echoed_then_the_server_closes_tcp(server):
    sock = never_reading_member(server.port, "/r")
    sock.sendall(client_frame(0x8, (4000).to_bytes(2, "big") + b"done"))
    got = frames(sock, lambda op, _: op == 0x8)
    assert int.from_bytes(got[-1][1][:2], "big") == 4000
    assert_closed_by_server(sock)
    sock.close()


def test_a_fragmented_publish_is_relayed_whole(server):
    sock = never_reading_member(server.port, "/r")
    body = json.dumps({"event": "publish", "data": "x" * 300}).encode()
    sock.sendall(client_frame(0x1, body[:100], fin=False) + client_frame(0x9, b"p") +
                 client_frame(0x0, body[100:]))
    got = frames(sock, lambda op, p: op == 0x1 and b'"message"' in p)
    assert text_frames(got)[-1]["data"] == "x" * 300
    sock.close()


@SEND_PATHS
def test_every_member_on_every_loop_gets_every_message_once_in_order(send_path):
    n, publishers, members = 150, 3, 12
    with Server("--room", "/r:relay", "--threads", "3", "--send-path", send_path) as s:
        subs = [Stream(s.url("/r"), "--count", str(1 + n * publishers)) for _ in range(members)]
        try:
            for sub in subs:
                assert sub.read(1) == [WELCOME]
            for p in range(publishers):
                lines = "".join('{"p":%d,"i":%d}\n' % (p, i) for i in range(n))
                r = run_wspush("publish", s.url("/r", "http"), input=lines)
                assert r.returncode == 0, r.stderr
            for sub in subs:
                code, got = sub.wait()
                assert code == 0, sub.stderr()
                assert [m["seq"] for m in got] == list(range(1, n * publishers + 1))
                assert [m["data"] for m in got] == [{"p": p, "i": i}
                                                    for p in range(publishers) for i in range(n)]
        finally:
            for sub in subs:
                sub.__exit__()
        # This machine's kernel takes io_uring: the path under test is the one asked for.
        assert "io_uring is not available" not in s.stderr_text()


@pytest.mark.parametrize("value", ["0", "257", "many"])
def test_threads_out_of_range_is_a_usage_error(value):
    r = run_wspush("serve", "--port", "0", "--threads", value)
    assert r.returncode == 2
    assert "--threads" in r.stderr



def test_an_unknown_send_path_is_a_usage_error():
    r = run_wspush("serve", "--port", "0", "--send-path", "splice")
    assert r.returncode == 2
    assert "--send-path" in r.stderr


def refuse_io_uring():
    """What Docker's default seccomp profile does: io_uring_setup fails with ENOSYS."""
    rules = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    rules.add_rule(seccomp.ERRNO(errno.ENOSYS), "io_uring_setup")
    rules.load()


def test_where_io_uring_is_refused_the_sends_go_by_sendmsg_and_the_log_says_why():
    n = 50
    with Server("--room", "/r:relay", "--threads", "2", preexec_fn=refuse_io_uring) as s:
        subs = [Stream(s.url("/r"), "--count", str(1 + n)) for _ in range(4)]
        try:
            for sub in subs:
                assert sub.read(1) == [WELCOME]
            lines = "".join('{"i":%d}\n' % i for i in range(n))
            r = run_wspush("publish", s.url("/r", "http"), input=lines)
            assert r.returncode == 0, r.stderr
            for sub in subs:
                code, got = sub.wait()
                assert code == 0, sub.stderr()
                assert [m["data"]["i"] for m in got] == list(range(n))
        finally:
            for sub in subs:
                sub.__exit__()
        log = s.stderr_text()
    # One warning per loop, naming the reason.
    assert log.count("io_uring is not available here (Function not implemented)") == 2, log
