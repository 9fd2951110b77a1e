"""`wspush client` in both modes (--async and --sync): the same tests, the same output
and exit codes, against wspush, the reference Python server, and scripted servers."""

import base64
import json
import os
import re
import shutil
import subprocess

import pytest

from wspush_harness import (DEADLINE, PYTHON, Helper, Server, connect_proxy, free_port,
                            run_wspush, scripted_server)

SEED = os.environ.get("WSPUSH_SEED") or os.path.join(
    os.path.dirname(__file__), "..", "..", "..", "shared", "seed")
EXIT = {"ok": 0, "usage": 2, "connect": 3, "tls": 4, "handshake": 5, "protocol": 6,
        "timeout": 7, "gap": 8}


@pytest.fixture(params=["--async", "--sync"])
def mode(request):
    return request.param


@pytest.fixture(scope="module")
def server():
    with Server("--room", "/nowtime:ticker", "--room", "/r:relay", "--room", "/news:feed",
                "--room", "/e:echo", "--interval", "20ms") as s:
        yield s


def client(mode, *args, **kw):
    return run_wspush("client", mode, *args, **kw)


def lines(r):
    return [json.loads(l) for l in r.stdout.splitlines()]


def assert_one_line_reason(r, fragment):
    err = [l for l in r.stderr.splitlines() if l.startswith("wspush client:")]
    assert len(err) == 1, r.stderr
    assert fragment in err[0], r.stderr


def test_count_prints_exactly_n_lines_then_closes(server, mode):
    r = client(mode, server.url("/nowtime"), "--count", "10", "--stats")
    assert r.returncode == 0, r.stderr
    msgs = lines(r)
    assert len(msgs) == 10
    assert msgs[0] == {"status": 200, "event": "notification", "data": "Welcome"}
    assert all(m["event"] == "nowtime" for m in msgs[1:])
    stats = json.loads(r.stderr.strip().splitlines()[-1])
    assert stats["event"] == "stats" and stats["received"] == 10 and stats["gaps"] == 0
    assert stats["duplicates"] == 0 and stats["close_code"] == 1000
    assert stats["first_message_ms"] >= 0 and stats["duration_ms"] >= stats["first_message_ms"]


def test_pipes_into_jq(server, mode):
    if not shutil.which("jq"):
        pytest.skip("jq is not installed")
    r = subprocess.run("'%s' client %s '%s' --count 10 | jq -c .event" % (
        os.environ["WSPUSH_BIN"], mode, server.url("/nowtime")), shell=True,
        capture_output=True, text=True, timeout=DEADLINE, stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and len(r.stdout.splitlines()) == 10


def test_stdout_is_exactly_what_the_server_sent(server, mode):
    r = client(mode, server.url("/r"), "--send", '{"event":"publish","data":{"a": [1, 2]}}',
               "--count", "2")
    assert r.returncode == 0, r.stderr
    out = r.stdout.splitlines()
    assert out[0] == '{"status":200,"event":"notification","data":"Welcome"}'
    assert re.fullmatch(r'\{"status":200,"event":"message","data":\{"a":\[1,2\]\},"seq":\d+\}',
                        out[1])


def test_send_stdin_sends_each_line(server, mode):
    r = client(mode, server.url("/e"), "--send-stdin", "--count", "3",
               input='{"a":1}\nnot json\n\n{"b":2}\n')
    assert r.returncode == 0, r.stderr
    assert lines(r) == [{"a": 1}, {"text": "not json"}, {"b": 2}]


def test_idle_timeout(server, mode):
    r = client(mode, server.url("/news"), "--idle-timeout", "300ms")
    assert r.returncode == EXIT["timeout"]
    assert len(lines(r)) == 1  # the welcome
    assert_one_line_reason(r, "--idle-timeout")


def test_overall_timeout(server, mode):
    r = client(mode, server.url("/nowtime"), "--timeout", "300ms")
    assert r.returncode == EXIT["timeout"]
    assert len(lines(r)) >= 2
    assert_one_line_reason(r, "--timeout")


def test_server_closing_normally_ends_with_0(server, mode):
    r = client(mode, server.url("/news"), "--send", '{"event":"close"}')
    assert r.returncode == 0, r.stderr
    assert lines(r)[-1] == {"status": 200, "event": "bye", "data": "bye"}


def test_refused_port_is_connect_error(mode):
    r = client(mode, "ws://127.0.0.1:%d/x" % free_port())
    assert r.returncode == EXIT["connect"]
    assert r.stdout == ""
    assert_one_line_reason(r, "cannot connect")


def test_unknown_host_is_connect_error(mode):
    r = client(mode, "ws://no-such-host.invalid:5000/x", "--timeout", "20s")
    assert r.returncode == EXIT["connect"]
    assert_one_line_reason(r, "cannot connect")


def test_unknown_room_is_handshake_refused_with_status_and_body(server, mode):
    r = client(mode, server.url("/nope"))
    assert r.returncode == EXIT["handshake"]
    assert_one_line_reason(r, 'HTTP 404 Not Found: {"status":404,"event":"error",'
                              '"data":"unknown room: /nope"}')


def test_server_that_never_answers_the_handshake_is_a_timeout(mode):
    with scripted_server("silent") as s:
        r = client(mode, "ws://127.0.0.1:%d/x" % s.port, "--handshake-timeout", "500ms")
        assert r.returncode == EXIT["timeout"]
        assert_one_line_reason(r, "handshake")
        r = client(mode, "ws://127.0.0.1:%d/x" % s.port, "--timeout", "500ms")
        assert r.returncode == EXIT["timeout"]
        assert_one_line_reason(r, "--timeout")


def test_connection_dropped_mid_stream_is_a_protocol_error(mode):
    with scripted_server("drop") as s:
        r = client(mode, "ws://127.0.0.1:%d/x" % s.port)
        assert r.returncode == EXIT["protocol"]
        assert len(lines(r)) == 2
        assert_one_line_reason(r, "1006")


def test_gap_exits_with_gap_code(mode):
    with scripted_server("gap") as s:
        r = client(mode, "ws://127.0.0.1:%d/x" % s.port, "--stats")
        assert r.returncode == EXIT["gap"]
        assert [m.get("seq") for m in lines(r)] == [None, 1, 2, 4, 5]
        assert "gap: expected seq 3, got 4" in r.stderr
        stats = json.loads([l for l in r.stderr.splitlines() if l.startswith("{")][0])
        assert stats["gaps"] == 1 and stats["missed"] == 1


def test_duplicates_are_counted(mode):
    with scripted_server("duplicate") as s:
        r = client(mode, "ws://127.0.0.1:%d/x" % s.port, "--stats")
        assert r.returncode == 0
        stats = json.loads([l for l in r.stderr.splitlines() if l.startswith("{")][0])
        assert stats["duplicates"] == 1 and stats["gaps"] == 0


def test_every_legal_server_behaviour(mode):
    with scripted_server("legal") as s:
        r = client(mode, "ws://127.0.0.1:%d/x" % s.port, "--stats")
        assert r.returncode == 0, r.stderr  # 1001 is a normal end
        msgs = lines(r)
        assert msgs[1] == {"status": 200, "event": "frag", "data": "ment"}
        assert msgs[2] == {"binary": base64.b64encode(b"\x00\x01\xfe\xff").decode()}
        assert msgs[3] == {"pretty": True}
        assert msgs[4] == {"text": "plain text"}
        assert msgs[5] == {"big": "y" * (1024 * 1024)}
        assert len(r.stdout.splitlines()) == 6
        stats = json.loads(r.stderr.strip().splitlines()[-1])
        assert stats["close_code"] == 1001 and stats["close_reason"] == "going away now"


def test_custom_close_code_is_reported(mode):
    with scripted_server("close-custom") as s:
        r = client(mode, "ws://127.0.0.1:%d/x" % s.port)
        assert r.returncode == EXIT["protocol"]
        assert_one_line_reason(r, "4000: custom reason")


def test_message_over_the_limit_closes_1009(mode):
    with scripted_server("big") as s:
        r = client(mode, "ws://127.0.0.1:%d/x" % s.port, "--max-message-size", "1000000")
        assert r.returncode == EXIT["protocol"]
        r = client(mode, "ws://127.0.0.1:%d/x" % s.port, "--count", "1")
        assert r.returncode == 0 and len(r.stdout) == 2 * 1024 * 1024 + len('{"text":""}\n')


def test_echo_sends_frames_back_unchanged(mode):
    with scripted_server("expect-echo") as s:
        r = client(mode, "ws://127.0.0.1:%d/x" % s.port, "--echo")
        assert r.returncode == 0, r.stderr
        assert lines(r)[-1] == {"echoed": True}


def test_headers_origin_and_token_are_sent(mode):
    with scripted_server("headers") as s:
        r = client(mode, "ws://127.0.0.1:%d/x?y=1" % s.port, "-H", "X-One: 1",
                   "--header", "X-Two:two", "--origin", "https://example.test",
                   "--token", "s3cret", "--count", "1")
        assert r.returncode == 0, r.stderr
        got = lines(r)[0]
        assert got["path"] == "/x?y=1"
        h = {k.lower(): v for k, v in got["headers"].items()}
        assert h["x-one"] == "1" and h["x-two"] == "two"
        assert h["origin"] == "https://example.test"
        assert h["authorization"] == "Bearer s3cret"


def test_proxy_flag_and_environment(server, mode):
    with connect_proxy() as p:
        r = client(mode, server.url("/news"), "--proxy", "http://127.0.0.1:%d" % p.port,
                   "--count", "1")
        assert r.returncode == 0, r.stderr
        env = dict(os.environ, http_proxy="http://127.0.0.1:%d" % p.port, no_proxy="")
        r = client(mode, server.url("/news"), "--count", "1", env=env)
        assert r.returncode == 0, r.stderr
        env["no_proxy"] = "example.test,127.0.0.1"
        r = client(mode, server.url("/news"), "--count", "1", env=env)
        assert r.returncode == 0, r.stderr
        seen = p.lines()
        assert [s["connect"] for s in seen] == ["127.0.0.1:%d" % server.port] * 2


def test_proxy_refusal_is_a_connect_error(server, mode):
    with connect_proxy("--refuse") as p:
        r = client(mode, server.url("/news"), "--proxy", "http://127.0.0.1:%d" % p.port)
        assert r.returncode == EXIT["connect"]
        assert_one_line_reason(r, "proxy")


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    d = tmp_path_factory.mktemp("tls")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                    "-subj", "/CN=localhost", "-addext", "subjectAltName=DNS:localhost",
                    "-keyout", str(d / "key.pem"), "-out", str(d / "cert.pem")],
                   check=True, capture_output=True, timeout=60)
    return str(d / "cert.pem"), str(d / "key.pem")


def test_wss_verifies_certificates(mode, certificate):
    cert, key = certificate
    with scripted_server("welcome", "--tls", cert, key) as s:
        url = "wss://localhost:%d/x" % s.port
        r = client(mode, url, "--count", "1")
        assert r.returncode == EXIT["tls"]
        assert_one_line_reason(r, "TLS")
        r = client(mode, url, "--count", "1", "--cacert", cert)
        assert r.returncode == 0, r.stderr
        assert lines(r)[0]["data"] == "Welcome"
        r = client(mode, url, "--count", "1", "--insecure")
        assert r.returncode == 0, r.stderr
        r = client(mode, "wss://127.0.0.1:%d/x" % s.port, "--count", "1", "--cacert", cert)
        assert r.returncode == EXIT["tls"]  # the name does not match the certificate


@pytest.mark.parametrize("args,fragment", [
    (["http://x/y"], "invalid URL"),
    (["ws://x/y", "-H", "NoColon"], "invalid header"),
    (["ws://x/y", "--send", "{oops"], "invalid JSON"),
    (["ws://x/y", "--count", "0"], "at least 1"),
    (["ws://x/y", "--timeout", "5"], "missing unit"),
    (["ws://x/y", "--proxy", "socks5://p:1"], "invalid proxy"),
    (["ws://x/y", "--cacert", "/no/such/file"], "cacert"),
])
def test_usage_errors(mode, args, fragment):
    r = client(mode, *args)
    assert r.returncode == EXIT["usage"], r.stderr
    assert fragment in r.stderr and r.stdout == ""


def test_sync_and_async_together_is_a_usage_error():
    r = run_wspush("client", "--sync", "--async", "ws://x/y")
    assert r.returncode == EXIT["usage"]


@pytest.fixture
def reference_server(tmp_path):
    """The seed's server.py on a free port (its source hard-codes 5000) and, to keep
    the test short, a 50 ms push period instead of 3 s; nothing else is changed."""
    source = open(os.path.join(SEED, "server.py")).read()
    assert "PORT = 5000" in source and "asyncio.sleep(3)" in source
    port = free_port()
    (tmp_path / "server.py").write_text(
        source.replace("PORT = 5000", "PORT = %d" % port).replace("asyncio.sleep(3)",
                                                                  "asyncio.sleep(0.05)"))
    shutil.copy(os.path.join(SEED, "logger.py"), tmp_path / "logger.py")
    proc = subprocess.Popen([PYTHON, "server.py"], cwd=tmp_path, stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(200):  # bounded: until it accepts (it prints nothing on stdout)
            probe = run_wspush("client", "ws://localhost:%d/nowtime" % port, "--count", "1")
            if probe.returncode == 0:
                break
            assert proc.poll() is None, "reference server exited"
            subprocess.run(["sleep", "0.05"])
        yield "ws://localhost:%d/nowtime" % port
    finally:
        proc.kill()
        proc.wait(timeout=DEADLINE)


def test_against_the_reference_server(reference_server, mode):
    r = client(mode, reference_server, "--count", "10")
    assert r.returncode == 0, r.stderr
    msgs = lines(r)
    assert len(msgs) == 10
    assert msgs[0] == {"status": 200, "event": "notification", "data": "Welcom"}
    assert all(m["event"] == "nowtime" for m in msgs[1:])


def test_a_message_before_a_violation_in_the_same_read_is_printed_first(mode):
    with scripted_server("then-violation") as s:
        r = client(mode, "ws://127.0.0.1:%d/x" % s.port, "--timeout", "4s")
        assert lines(r) == [{"status": 200, "event": "notification", "data": "Welcome"}], r.stderr
        assert r.returncode == EXIT["protocol"], r.stderr


def test_a_message_in_too_many_fragments_is_refused_after_the_one_before(mode):
    with scripted_server("many-fragments") as s:
        r = client(mode, "ws://127.0.0.1:%d/x" % s.port, "--timeout", "20s")
        assert lines(r) == [{"status": 200, "event": "message", "data": "at the cap"}], r.stderr
        assert r.returncode == EXIT["protocol"], r.stderr
        assert "we closed with 1008 (message in over 1024 fragments)" in r.stderr, r.stderr


def test_invalid_utf8_in_a_first_fragment_is_refused_at_once(mode):
    with scripted_server("bad-first-fragment") as s:
        # The rest of the message never comes: a client that waits for it times out (7).
        r = client(mode, "ws://127.0.0.1:%d/x" % s.port, "--timeout", "3s")
        assert r.returncode == EXIT["protocol"], r.stderr
        assert "we closed with 1007" in r.stderr, r.stderr
