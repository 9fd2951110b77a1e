"""Logs (SPEC §6): JSON lines when stderr is not a terminal (or with --log-format json),
text with --log-format text; one line per connection close with who, where, how long,
how much and how it ended; refusals with their reason."""

import json
import time

from wspush_harness import DEADLINE, Server, connect, raw_handshake, recv_close, recv_json
from wspush_harness import run_wspush


def json_lines(server):
    """Every stderr line, each parsed (a line that is not JSON fails the test)."""
    return [json.loads(line) for line in server.stderr_text().splitlines() if line]


def wait_for_line(server, predicate):
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        found = [x for x in json_lines(server) if predicate(x)]
        if found:
            return found
        time.sleep(0.05)
    raise AssertionError("no such log line in:\n" + server.stderr_text())


def test_every_line_is_json_and_each_close_is_one_line_with_its_facts():
    with Server("--room", "/news", "--room", "/e:echo") as s:  # stderr is a file: JSON
        ws = connect(s.url("/news"))
        assert recv_json(ws)["data"] == "Welcome"
        echo = connect(s.url("/e"))
        for n in range(3):
            echo.send("m%d" % n)
            assert echo.recv() == "m%d" % n
        echo.close(status=4321, reason=b"client leaves")
        ws.send('{"event":"ping"}')
        assert recv_json(ws)["event"] == "pong"
        ws.close()
        end = time.monotonic() + DEADLINE
        closes = []
        while len(closes) < 2 and time.monotonic() < end:
            closes = [x for x in json_lines(s) if x["msg"] == "connection closed"]
            time.sleep(0.05)
        by_room = {x["room"]: x for x in closes}
        e = by_room["/e"]
        assert (e["code"], e["reason"], e["by"]) == (4321, "client leaves", "client")
        assert e["messages_in"] == 3 and e["messages_out"] == 3
        assert e["remote"] == "127.0.0.1" and 0 <= e["duration_s"] < DEADLINE * 2
        news = by_room["/news"]
        assert news["messages_in"] == 1 and news["messages_out"] == 2  # welcome, pong
        assert news["code"] == 1000 and news["by"] == "client"
        for line in json_lines(s):
            assert set(line) >= {"time", "level", "msg"} and line["time"].endswith("Z")


def test_server_side_closes_and_refusals_are_logged_with_their_reason():
    with Server("--room", "/news", "--idle-timeout", "300ms", "--ping-interval", "0s") as s:
        ws = connect(s.url("/news"))
        assert recv_json(ws)["data"] == "Welcome"
        code, reason, _ = recv_close(ws)
        assert code == 4010
        ws.close()
        assert raw_handshake("127.0.0.1", s.port, "/missing")[0] == 404
        close = wait_for_line(s, lambda x: x["msg"] == "connection closed")[0]
        assert close["code"] == 4010 and close["by"] == "server"
        assert close["reason"].startswith("idle timeout")
        refused = wait_for_line(s, lambda x: x["msg"] == "handshake refused")[0]
        assert refused["status"] == 404 and refused["reason"] == "unknown_room"
        assert refused["target"] == "/missing" and refused["remote"] == "127.0.0.1"


def test_text_format_on_request(tmp_path):
    with Server("--room", "/news", "--log-format", "text") as s:
        ws = connect(s.url("/news"))
        recv_json(ws)
        ws.close()
        end = time.monotonic() + DEADLINE
        while "connection closed" not in s.stderr_text() and time.monotonic() < end:
            time.sleep(0.05)
        line = [x for x in s.stderr_text().splitlines() if "connection closed" in x][0]
        assert line.split()[1] == "info" and "room=/news" in line and "code=1000" in line
        assert not line.startswith("{")
    config = tmp_path / "c.json"
    config.write_text('{"log_format": "text"}')
    with Server("--config", str(config)) as s:
        assert s.stderr_text().splitlines()[0].split()[1] == "info"
    r = run_wspush("serve", "--port", "0", "--log-format", "xml")
    assert r.returncode == 2 and "log-format" in r.stderr
