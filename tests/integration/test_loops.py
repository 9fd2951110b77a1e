"""Several event loops on one port (listen_sockets.hpp): each loop listens on its own
socket of a SO_REUSEPORT group, keeps the sessions that come to it, and hands plain
HTTP to the first loop, which answers it; a second server on the same port is still
refused."""

import json
import socket
import ssl

from wspush_harness import (DEADLINE, Server, connect, metrics, read_responses, recv_json,
                             run_wspush, tls_pair)


def responses(sock, count):
    """`count` HTTP responses read off `sock`: [(status, body)]."""
    got = read_responses(sock, count)
    assert len(got) == count, "connection closed after %d of %d responses" % (len(got), count)
    return [(status, body) for status, _, body in got]


def publish_request(room, body):
    return ("POST /api/publish?room=%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
            % (room, len(body), body))


def test_sessions_spread_over_the_loops_and_every_member_gets_each_broadcast():
    with Server("--threads", "3", "--room", "/chat:relay") as s:
        members = [connect(s.url("/chat")) for _ in range(60)]
        for ws in members:
            assert recv_json(ws)["data"] == "Welcome"
        m = metrics(s)
        per_loop = [m['wspush_loop_connections{loop="%d"}' % k] for k in range(3)]
        # 60 connections hashed over 3 sockets: a loop with none is a 1e-10 chance.
        assert sum(per_loop) == 60 and min(per_loop) > 0, per_loop
        members[0].send(json.dumps({"event": "publish", "data": "to all"}))
        for ws in members:
            got = recv_json(ws)
            assert got["data"] == "to all" and got["seq"] == 1
            ws.close()


def test_plain_http_is_answered_whichever_loop_takes_the_connection():
    with Server("--threads", "4", "--room", "/news:feed") as s:
        member = connect(s.url("/news"))
        assert recv_json(member)["data"] == "Welcome"
        # Fresh connections land on every loop; each carries two requests kept alive,
        # the second pipelined behind the first in the same write.
        for n in range(1, 33):
            with socket.create_connection(("127.0.0.1", s.port), timeout=DEADLINE) as c:
                c.sendall(("GET /api/rooms HTTP/1.1\r\nHost: x\r\n\r\n"
                           + publish_request("/news", json.dumps({"n": n}))).encode())
                (rooms_status, rooms), (status, answer) = responses(c, 2)
                assert rooms_status == 200 and "/news" in rooms
                assert status == 200 and json.loads(answer) == {"delivered": 1, "seq": n}
                # And one more on the same connection, after the answers.
                c.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
                assert responses(c, 1) == [(200, '{"status":"ok"}')]
            assert recv_json(member)["data"] == {"n": n}
        member.close()


def test_https_is_answered_whichever_loop_takes_the_connection(tmp_path):
    cert, key = tls_pair(str(tmp_path))
    context = ssl.create_default_context(cafile=cert)
    with Server("--threads", "4", "--tls-cert", cert, "--tls-key", key, "--room", "/news") as s:
        for _ in range(16):
            with socket.create_connection(("127.0.0.1", s.port), timeout=DEADLINE) as raw:
                with context.wrap_socket(raw, server_hostname="localhost") as c:
                    c.sendall(b"GET /api/rooms HTTP/1.1\r\nHost: x\r\n\r\n"
                              b"GET /readyz HTTP/1.1\r\nHost: x\r\n\r\n")
                    (status, rooms), ready = responses(c, 2)
                    assert status == 200 and "/news" in rooms
                    assert ready == (200, '{"status":"ready"}')


def test_a_second_server_on_the_port_is_refused_whatever_its_loops():
    with Server("--threads", "3") as s:
        for threads in ("3", "1"):
            r = run_wspush("serve", "--host", "127.0.0.1", "--port", str(s.port),
                           "--threads", threads)
            assert r.returncode == 1, r.stderr
            assert "cannot listen on 127.0.0.1 port %d: Address already in use" % s.port \
                in r.stderr
        # The first still has every connection.
        ws = connect(s.url("/nowtime"))
        assert recv_json(ws)["data"] == "Welcome"
        ws.close()
