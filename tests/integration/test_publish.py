"""Publishing (HTTP API, `wspush publish`, `serve --stdin`), history and ?since=, the
rooms API, --reconnect and --config: SPEC §2-§5, against the real binary."""

import json
import socket
import os
import signal
import subprocess

import pytest

from wspush_harness import (DEADLINE, Server, Stream, connect, file_text, raw_handshake,
                            raw_http, recv_json, run_wspush, tcp_forwarder, wspush_binary)

WELCOME = {"status": 200, "event": "notification", "data": "Welcome"}


def http(server, method, target, body="", headers=()):
    request = "%s %s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n%s\r\n%s" % (
        method, target, len(body.encode()), "".join(h + "\r\n" for h in headers), body)
    status, hdrs, text = raw_http("127.0.0.1", server.port, request)
    return status, hdrs, (json.loads(text) if text else None)


@pytest.fixture(scope="module")
def server():
    with Server("--room", "/news:feed", "--room", "/r:relay", "--room", "/nowtime:ticker",
                "--room", "/chat/*:relay", "--interval", "1h") as s:
        yield s


def test_http_publish_reaches_every_member(server):
    members = [connect(server.url("/news")) for _ in range(3)]
    for ws in members:
        assert recv_json(ws) == WELCOME
    status, _, answer = http(server, "POST", "/api/publish?room=/news&event=alert", '{"a": [1]}')
    assert status == 200 and answer["delivered"] == 3
    for ws in members:
        assert recv_json(ws) == {"status": 200, "event": "alert", "data": {"a": [1]},
                                 "seq": answer["seq"]}
        ws.close()


@pytest.mark.parametrize("method,target,body,status", [
    ("POST", "/api/publish?room=/news", "{oops", 400),
    ("POST", "/api/publish", "1", 400),
    ("POST", "/api/publish?room=/nope", "1", 404),
    ("POST", "/api/publish?room=/nowtime", "1", 403),
    ("GET", "/api/publish?room=/news", "", 405),
    ("PUT", "/api/publish?room=/news", "1", 405),
    ("POST", "/api/rooms", "", 405),
])
def test_http_publish_errors(server, method, target, body, status):
    got, headers, answer = http(server, method, target, body)
    assert got == status
    assert answer["status"] == status and answer["event"] == "error" and answer["data"]
    if status == 405:
        assert headers["allow"] in ("GET, DELETE", "POST")


def test_http_publish_over_the_size_limit_is_413():
    with Server("--room", "/news", "--max-message-size", "1000") as s:
        status, _, _ = http(s, "POST", "/api/publish?room=/news", json.dumps("x" * 2000))
        assert status == 413
        assert http(s, "POST", "/api/publish?room=/news", json.dumps("x" * 900))[0] == 200


def test_rooms_api(server):
    http(server, "POST", "/api/publish?room=/chat/seen", "1")
    status, _, answer = http(server, "GET", "/api/rooms")
    assert status == 200
    rooms = {r["path"]: r for r in answer["rooms"]}
    assert rooms["/chat/*"]["family"] is True and rooms["/chat/*"]["kind"] == "relay"
    assert rooms["/chat/seen"]["history"] == 1 and rooms["/chat/seen"]["last_seq"] == 1
    assert rooms["/nowtime"]["history_capacity"] == 0
    assert rooms["/news"]["kind"] == "feed" and rooms["/news"]["history_capacity"] == 100
    assert set(rooms["/news"]) == {"path", "kind", "family", "members", "node_members",
                                   "last_seq", "history", "history_capacity", "slow_consumer",
                                   "dropped", "disconnected"}
    assert rooms["/news"]["node_members"] is None  # no --broker: members are this node's
    assert rooms["/news"]["slow_consumer"] == "disconnect"
    assert rooms["/nowtime"]["slow_consumer"] == "latest"


def test_api_key_is_required_when_set():
    with Server("--room", "/news", "--api-key", "s3cret") as s:
        assert http(s, "POST", "/api/publish?room=/news", "1")[0] == 401
        assert http(s, "GET", "/api/rooms", headers=["Authorization: Bearer wrong"])[0] == 401
        assert http(s, "GET", "/api/rooms", headers=["Authorization: Bearer s3cret"])[0] == 200
        r = run_wspush("publish", s.url("/news", "http"), "1")
        assert r.returncode == 5 and "401" in r.stderr
        r = run_wspush("publish", s.url("/news", "http"), "1", "--api-key", "s3cret")
        assert r.returncode == 0, r.stderr


def test_since_replays_then_goes_live(server):
    for i in range(5):
        http(server, "POST", "/api/publish?room=/chat/since", json.dumps(i))
    ws = connect(server.url("/chat/since?since=2"))
    assert recv_json(ws) == WELCOME
    recovery = recv_json(ws)
    assert recovery["event"] == "recovery"
    epoch = recovery["data"].pop("epoch")
    assert isinstance(epoch, int) and epoch > 0  # this process's streams
    assert recovery["data"] == {"recovered": True, "since": 2, "first_seq": 1, "last_seq": 5,
                                "replayed": 3}
    assert [recv_json(ws)["seq"] for _ in range(3)] == [3, 4, 5]
    http(server, "POST", "/api/publish?room=/chat/since", "5")
    assert recv_json(ws)["seq"] == 6
    ws.close()


def test_an_epoch_this_process_never_had_is_recovered_false():
    with Server("--room", "/news") as s:
        for i in range(3):
            http(s, "POST", "/api/publish?room=/news", json.dumps(i))
        ws = connect(s.url("/news?since=2"))
        assert recv_json(ws) == WELCOME
        epoch = recv_json(ws)["data"]["epoch"]
        ws.close()
        ws = connect(s.url("/news?since=2&epoch=%d" % (epoch - 1)))  # a stream that is gone
        assert recv_json(ws) == WELCOME
        recovery = recv_json(ws)["data"]
        assert (recovery["recovered"], recovery["epoch"], recovery["replayed"]) == (False, epoch, 3)
        ws.close()
        status, _, body = raw_handshake("127.0.0.1", s.port, "/news?since=2&epoch=soon")
        assert status == 400 and "invalid epoch" in body


def test_since_older_than_the_history_says_so():
    with Server("--room", "/news", "--history", "3") as s:
        for i in range(10):
            http(s, "POST", "/api/publish?room=/news", json.dumps(i))
        ws = connect(s.url("/news?since=2"))
        assert recv_json(ws) == WELCOME
        recovery = recv_json(ws)
        assert recovery["data"]["recovered"] is False
        assert recovery["data"]["first_seq"] == 8
        assert [recv_json(ws)["seq"] for _ in range(3)] == [8, 9, 10]
        ws.close()


def test_malformed_since_is_400(server):
    r = run_wspush("client", server.url("/news?since=abc"))
    assert r.returncode == 5 and "400" in r.stderr


def test_joins_racing_publishes_see_no_gap_and_no_duplicate():
    n = 3000
    with Server("--room", "/news", "--history", str(n)) as s:
        publisher = subprocess.Popen([wspush_binary(), "publish", s.url("/news", "http")],
                                     stdin=subprocess.PIPE, stderr=subprocess.PIPE)
        clients = []
        try:
            for k in range(6):  # join while the lines stream in
                publisher.stdin.write(("".join("%d\n" % i for i in range(k * 500, (k + 1) * 500))).encode())
                publisher.stdin.flush()
                clients.append(Stream(s.url("/news?since=0"), "--count", str(n + 2)))
            publisher.stdin.close()
            assert publisher.wait(timeout=DEADLINE * 3) == 0, publisher.stderr.read()
            for c in clients:
                code, lines = c.wait()
                assert code == 0, c.stderr()
                assert lines[1]["event"] == "recovery" and lines[1]["data"]["recovered"]
                assert [m["seq"] for m in lines[2:]] == list(range(1, n + 1))
                assert [m["data"] for m in lines[2:]] == list(range(n))
        finally:
            for c in clients:
                c.__exit__()
            if publisher.poll() is None:
                publisher.kill()


def test_ten_thousand_stdin_lines_arrive_in_order_exactly_once(server):
    lines = "".join('{"n": %d}\n' % i if i % 2 else "plain line %d\n" % i for i in range(10000))
    with Stream(server.url("/r"), "--count", "10001", "--stats") as sub:
        assert sub.read(1) == [WELCOME]
        r = run_wspush("publish", server.url("/r", "http"), "--event", "log", input=lines)
        assert r.returncode == 0, r.stderr
        assert r.stdout == ""
        code, got = sub.wait()
        assert code == 0, sub.stderr()
    assert len(got) == 10000
    assert [m["data"] for m in got] == [{"n": i} if i % 2 else "plain line %d" % i
                                        for i in range(10000)]
    seqs = [m["seq"] for m in got]
    assert seqs == list(range(seqs[0], seqs[0] + 10000))
    assert all(m["event"] == "log" for m in got)


def test_publish_one_event_prints_the_answer(server):
    r = run_wspush("publish", server.url("/news", "ws"), '{"x": 1}')
    assert r.returncode == 0, r.stderr
    answer = json.loads(r.stdout)
    assert set(answer) == {"delivered", "seq"}


def test_publish_reports_bad_lines_by_number_and_skips_them(server):
    with Stream(server.url("/news")) as sub:
        sub.read(1)
        big = "x" * (70 * 1024)
        r = run_wspush("publish", server.url("/news", "http"), "--json",
                       input='{"ok":1}\nnot json\n' + big + '\n{"ok":2}\n')
        assert r.returncode == 1
        assert "line 2: invalid JSON" in r.stderr and "line 3:" in r.stderr
        assert "over --max-message-size" in r.stderr
        assert [m["data"] for m in sub.read(2)] == [{"ok": 1}, {"ok": 2}]


def test_publish_skips_invalid_utf8_and_strict_stops(server):
    with Stream(server.url("/news")) as sub:
        sub.read(1)
        r = subprocess.run([wspush_binary(), "publish", server.url("/news", "http")],
                           input=b"one\n\xff\xfe\nthree\n", capture_output=True, timeout=DEADLINE)
        assert r.returncode == 1 and b"line 2: invalid UTF-8 (skipped)" in r.stderr
        assert [m["data"] for m in sub.read(2)] == ["one", "three"]
        r = run_wspush("publish", server.url("/news", "http"), "--json", "--strict",
                       input='{"a":1}\nbad\n{"never":1}\n')
        assert r.returncode == 1 and "line 2" in r.stderr
        assert sub.read(1)[0]["data"] == {"a": 1}
        status, _, rooms = http(server, "GET", "/api/rooms")
        news = [x for x in rooms["rooms"] if x["path"] == "/news"][0]
        ws = connect(server.url("/news?since=%d" % (news["last_seq"] - 1)))
        recv_json(ws), recv_json(ws)
        assert recv_json(ws)["data"] == {"a": 1}  # the line after the bad one never went out
        ws.close()


@pytest.mark.parametrize("args,code,fragment", [
    (["http://127.0.0.1:1/news", "1"], 3, "cannot connect"),
    (["not-a-url", "1"], 2, "invalid room URL"),
    (["http://127.0.0.1:1/", "1"], 2, "invalid room URL"),
])
def test_publish_errors(args, code, fragment):
    r = run_wspush("publish", *args)
    assert r.returncode == code and fragment in r.stderr


def test_publish_unknown_room_is_refused(server):
    r = run_wspush("publish", server.url("/nope", "http"), "1")
    assert r.returncode == 5 and "404" in r.stderr


def test_serve_stdin_publishes_each_line_and_survives_eof():
    with Server("--room", "/logs", "--stdin", "/logs") as s:
        with Stream(s.url("/logs"), "--count", "4") as sub:
            sub.read(1)
            s.proc_stdin_write(b'hello\n{"j": 1}\n\xff\n')
            assert [m["data"] for m in sub.read(2)] == ["hello", {"j": 1}]
            s.proc_stdin_close()
            status, _, answer = http(s, "POST", "/api/publish?room=/logs", '"after eof"')
            assert status == 200
            assert sub.read(1)[0]["data"] == "after eof"
        assert "stdin line 3: skipped: invalid UTF-8" in open_log(s)


def stats_of(stderr):
    return [json.loads(l) for l in stderr.splitlines() if l.startswith('{"event":"stats"')][-1]


def open_log(server):
    return file_text(server.log)


def publish_while_cut(server, fwd, values):
    """Cuts the client's forwarded connection (refusing reconnects), publishes each
    value into /news, then lets the client back in."""
    fwd.proc.send_signal(signal.SIGUSR1)
    assert fwd.next_line() == {"cut": 1}
    for i in values:
        http(server, "POST", "/api/publish?room=/news", json.dumps(i))
    fwd.proc.send_signal(signal.SIGUSR2)


@pytest.mark.parametrize("mode", ["--async", "--sync"])
def test_reconnect_after_a_cut_misses_nothing_within_the_history(mode):
    with Server("--room", "/news") as s, tcp_forwarder(s.port) as fwd:
        url = "ws://127.0.0.1:%d/news" % fwd.port
        with Stream(url, mode, "--reconnect", "--count", "103", "--stats") as sub:
            assert sub.read(1) == [WELCOME]
            for i in range(50):
                http(s, "POST", "/api/publish?room=/news", json.dumps(i))
            assert [m["seq"] for m in sub.read(50)] == list(range(1, 51))
            publish_while_cut(s, fwd, range(50, 100))
            code, rest = sub.wait()
            assert code == 0, sub.stderr()
            assert rest[0] == WELCOME
            assert rest[1]["event"] == "recovery" and rest[1]["data"]["recovered"] is True
            assert [m["seq"] for m in rest[2:]] == list(range(51, 101))
            stats = stats_of(sub.stderr())
            assert stats["reconnects"] == 1 and stats["resumed"] == 1 and stats["gaps"] == 0


@pytest.mark.parametrize("mode", ["--async", "--sync"])
def test_reconnect_beyond_the_history_exits_with_the_gap_code(mode):
    with Server("--room", "/news", "--history", "5") as s, tcp_forwarder(s.port) as fwd:
        url = "ws://127.0.0.1:%d/news" % fwd.port
        with Stream(url, mode, "--reconnect", "--count", "9", "--stats") as sub:
            sub.read(1)
            http(s, "POST", "/api/publish?room=/news", "0")
            sub.read(1)
            publish_while_cut(s, fwd, range(1, 20))
            code, rest = sub.wait()
            assert code == 8, sub.stderr()
            assert rest[1]["data"]["recovered"] is False
            assert "could not replay" in sub.stderr()
            stats = stats_of(sub.stderr())
            assert stats["unrecovered"] == 1


def test_config_file_declares_rooms_and_flags_override(tmp_path):
    config = tmp_path / "wspush.json"
    config.write_text(json.dumps({
        "port": 1, "history": 7,
        "rooms": [{"path": "/news", "kind": "feed", "history": 2},
                  {"path": "/chat/*", "kind": "relay"}]}))
    with Server("--config", str(config), "--room", "/extra:relay") as s:  # --port 0 wins
        status, _, answer = http(s, "GET", "/api/rooms")
        rooms = {r["path"]: r for r in answer["rooms"]}
        assert rooms["/news"]["history_capacity"] == 2
        assert rooms["/extra"]["history_capacity"] == 7 and rooms["/extra"]["kind"] == "relay"
        assert rooms["/chat/*"]["kind"] == "relay"


@pytest.mark.parametrize("text,fragment", [
    ('{"rooms": [{"path": "/a"},\n  {"path": "/b", "kind": "party"}]}', "rooms[1]: invalid room"),
    ('{\n  "port": 80,\n  oops\n}', "line 3, column 3"),
    ('{"prot": 1}', "prot: unknown field"),
])
def test_bad_config_is_refused_with_file_position_and_reason(tmp_path, text, fragment):
    config = tmp_path / "bad.json"
    config.write_text(text)
    r = run_wspush("serve", "--config", str(config), "--port", "0")
    assert r.returncode == 2
    assert str(config) in r.stderr and fragment in r.stderr
    r = run_wspush("serve", "--config", str(tmp_path / "missing.json"), "--port", "0")
    assert r.returncode == 2 and "cannot read" in r.stderr


def test_http_publish_of_invalid_utf8_is_400(server):
    # Found by fuzzing: the body is not a WebSocket frame, so nothing else checks it.
    request = ("POST /api/publish?room=/news HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\n"
               ).encode() + b'"\xff"'
    with socket.create_connection(("127.0.0.1", server.port), timeout=DEADLINE) as s:
        s.sendall(request)
        answer = s.recv(4096)
    assert answer.startswith(b"HTTP/1.1 400") and b"UTF-8" in answer
