"""Command-line behaviour of `wspush` and `wspush serve`: usage errors, help, defaults."""

import json
import os
import re
import subprocess

import pytest

from wspush_harness import DEADLINE, Server, connect, long_flags, recv_json, subcommands
from wspush_harness import wspush_binary


def run(*args):
    return subprocess.run([wspush_binary(), *args], capture_output=True, text=True,
                          timeout=DEADLINE, stdin=subprocess.DEVNULL)


def test_version_names_the_release_and_the_commit():
    r = run("--version")
    assert r.returncode == 0
    found = re.fullmatch(r"wspush (\d+\.\d+\.\d+) \(commit ([0-9a-f]{12}(-dirty)?|unknown)\)\n",
                         r.stdout)
    assert found, r.stdout
    tree = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    head = subprocess.run(["git", "-C", tree, "rev-parse", "--short=12", "HEAD"],
                          capture_output=True, text=True)
    if head.returncode == 0:  # built from this checkout
        assert found.group(2).startswith(head.stdout.strip())


@pytest.mark.parametrize("args", [["help"], ["--help"], ["help", "serve"], ["serve", "--help"]])
def test_help_exits_0(args):
    r = run(*args)
    assert r.returncode == 0 and "serve" in r.stdout


@pytest.mark.parametrize("args,fragment", [
    (["serve", "--interval", "5"], "missing unit"),
    (["serve", "--interval", "0s"], "at least 1ms"),
    (["serve", "--room", "nowtime"], "must start with '/'"),
    (["serve", "--room", "/x:party"], "unknown kind"),
    (["serve", "--room", "/x", "--room", "/x:relay"], "declared twice"),
    (["serve", "--log-level", "loud"], "loud"),
    (["serve", "--max-message-size", "16Mb"], "unknown unit"),
    (["serve", "--send-buffer", "2GiB"], "out of range"),
    (["client", "--max-message-size", "lots"], "invalid size"),
    (["client", "--subscribe", "news"], "is not a room"),
    (["client", "--subscribe", "/a?b"], "no '?'"),
    (["serve", "--port", "99999"], "port"),
    (["bogus"], "bogus"),
    (["help", "bogus"], "unknown subcommand"),
])
def test_usage_errors_exit_2_with_a_reason(args, fragment):
    r = run(*args, "--port", "0") if args[0] == "serve" and "--port" not in args else run(*args)
    assert r.returncode == 2, r.stderr
    assert fragment in r.stderr
    assert r.stdout == ""


def test_port_in_use_exits_1_with_a_reason():
    with Server() as s:
        r = run("serve", "--host", "127.0.0.1", "--port", str(s.port))
        assert r.returncode == 1
        assert "cannot listen" in r.stderr


def test_defaults_serve_nowtime_ticker():
    with Server() as s:  # no --room: the reference's /nowtime ticker
        ws = connect(s.url("/nowtime"))
        assert recv_json(ws)["data"] == "Welcome"
        assert recv_json(ws)["event"] == "nowtime"
        ws.close()


COMPLETIONS = ["wspush.bash", "_wspush", "wspush.fish"]


@pytest.mark.parametrize("name", COMPLETIONS)
def test_completions_cover_every_subcommand_and_flag(name):
    import os
    path = os.path.join(os.path.dirname(__file__), "..", "..", "completions", name)
    text = open(path).read()
    for sub in subcommands():
        assert sub in text, "%s lacks subcommand %s" % (name, sub)
        for flag in long_flags(sub):
            bare = flag[2:]
            assert flag in text or ("-l " + bare) in text, "%s lacks %s %s" % (name, sub, flag)


def test_bench_delivers_every_message_once_in_order_and_reports_json():
    with Server("--room", "/r:relay") as s:
        r = run("bench", s.url("/r"), "--subscribers", "20", "--publishers", "2", "--messages",
                "100", "--size", "256", "--window", "8", "--json", "--server-pid",
                str(s.proc.pid), "--settle", "100ms")
        assert r.returncode == 0, r.stderr
        report = json.loads(r.stdout)
        assert report["deliveries"] == 20 * 2 * 100
        assert report["lost"] == report["duplicated"] == report["reordered"] == 0
        assert 0 < report["latency_p50_us"] <= report["latency_p99_us"] <= report["latency_max_us"]
        assert report["server_cpu_us_per_1000_deliveries"] is not None
        assert report["server_cpu_us_per_handshake"] is not None
        assert report["server_rss_kib_per_idle_connection"] is not None
        assert "publishing" in r.stderr and "deliveries (" not in r.stderr  # no progress: piped


def test_bench_compress_loses_nothing_and_sends_a_price_book_in_a_third_of_the_bytes():
    """Issue #29: the same realistic 1 KiB JSON, with and without permessage-deflate; the
    wire bytes each subscriber's socket took per delivery are what the server sent."""
    reports = {}
    with Server("--room", "/r:relay") as s:
        for compress in ([], ["--compress"]):
            r = run("bench", s.url("/r"), "--subscribers", "20", "--messages", "100", "--size",
                    "1KiB", "--payload", "prices", "--json", "--settle", "10ms", *compress)
            assert r.returncode == 0, r.stderr
            report = json.loads(r.stdout)
            assert report["deliveries"] == 20 * 100
            assert report["lost"] == report["duplicated"] == report["reordered"] == 0
            reports[bool(compress)] = report["wire_bytes_per_delivery"]
        # The envelope and the probe's own fields come on top of 1 KiB of book.
        assert 1024 <= reports[False] <= 1024 + 200, reports
        assert reports[True] < reports[False] * 0.45, reports
        r = run("bench", s.url("/r"), "--payload", "zip", "--settle", "10ms")
        assert r.returncode == 2 and "--payload" in r.stderr


def test_bench_threads_spread_the_subscribers_and_lose_nothing():
    with Server("--room", "/r:relay") as s:
        r = run("bench", s.url("/r"), "--subscribers", "20", "--publishers", "2", "--messages",
                "100", "--threads", "3", "--json", "--server-pid", str(s.proc.pid),
                "--settle", "100ms")
        assert r.returncode == 0, r.stderr
        report = json.loads(r.stdout)
        assert report["threads"] == 3 and "on 3 threads" in r.stderr
        assert report["deliveries"] == 20 * 2 * 100
        assert report["lost"] == report["duplicated"] == report["reordered"] == 0
        # Its CPU over what its 3 threads could have used.
        assert 0 < report["bench_cpu_share"] <= 1.5
        assert report["server_rss_kib_per_idle_connection"] is not None
        # No more loops than subscribers; and every loop stops on a timeout.
        r = run("bench", s.url("/r"), "--subscribers", "2", "--messages", "10", "--threads",
                "8", "--json", "--settle", "10ms")
        assert r.returncode == 0 and json.loads(r.stdout)["threads"] == 2, r.stderr
    with Server("--room", "/news:feed") as s:
        r = run("bench", s.url("/news"), "--subscribers", "4", "--messages", "5",
                "--threads", "2", "--timeout", "1s", "--settle", "10ms")
        assert r.returncode == 7 and "timed out: 0 of 20 deliveries" in r.stderr


def test_bench_rate_paces_the_publishers():
    with Server("--room", "/r:relay") as s:
        r = run("bench", s.url("/r"), "--subscribers", "5", "--publishers", "2", "--messages",
                "40", "--rate", "200", "--json", "--settle", "10ms")
        assert r.returncode == 0, r.stderr
        report = json.loads(r.stdout)
        assert report["rate"] == 200 and report["deliveries"] == 5 * 2 * 40
        assert report["lost"] == report["duplicated"] == report["reordered"] == 0
        # 40 probes at 200/s cannot all be out in less than 39/200 s (a lower bound
        # only: a slow machine just takes longer).
        assert report["publish_s"] >= 39 / 200


def test_bench_against_a_non_relay_room_times_out_with_code_7():
    with Server("--room", "/news:feed") as s:
        r = run("bench", s.url("/news"), "--subscribers", "2", "--messages", "5",
                "--timeout", "1s", "--settle", "10ms")
        assert r.returncode == 7 and "timed out" in r.stderr


def test_bench_names_a_refused_handshake_and_exits_6():
    with Server("--room", "/r:relay") as s:
        r = run("bench", s.url("/nosuch"), "--subscribers", "2", "--messages", "5",
                "--timeout", "20s")
        assert r.returncode == 6
        # The status and the server's reason, as `wspush client` says them.
        assert "handshake refused: HTTP 404" in r.stderr and "unknown room" in r.stderr, r.stderr


def test_bench_usage_errors():
    assert run("bench", "http://x/r").returncode == 2
    assert run("bench", "ws://x/r", "--subscribers", "0").returncode == 2
    assert run("bench", "ws://x/r", "--rate", "-1").returncode == 2
    assert run("bench", "ws://x/r", "--threads", "0").returncode == 2
    assert run("bench", "ws://x/r", "--server-pid", "999999999").returncode == 2


def test_sizes_take_units_on_every_byte_flag_and_in_the_config(tmp_path):
    with Server("--room", "/e:echo", "--max-message-size", "16MiB", "--send-buffer", "64KiB") as s:
        big = "x" * 100000  # over the 64 KiB default: accepted only if 16MiB was read
        r = subprocess.run([wspush_binary(), "client", s.url("/e"), "--max-message-size", "2MiB",
                            "--send", json.dumps(big), "--count", "1"], capture_output=True,
                           text=True, timeout=DEADLINE, stdin=subprocess.DEVNULL)
        assert r.returncode == 0, r.stderr
        assert json.loads(r.stdout) == big
    config = tmp_path / "c.json"
    config.write_text(json.dumps({"max_message_size": "1KiB", "rooms": [{"path": "/e", "kind": "echo"}]}))
    with Server("--config", str(config)) as s:
        ws = connect(s.url("/e"))
        ws.send("x" * 1025)
        from wspush_harness import recv_close
        assert recv_close(ws)[0] == 1009
    config.write_text(json.dumps({"send_buffer": "lots"}))
    r = run("serve", "--port", "0", "--config", str(config))
    assert r.returncode == 2 and "send_buffer" in r.stderr and "invalid size" in r.stderr


def on_a_terminal(argv, until, timeout=DEADLINE):
    """Runs argv with stderr on a pseudo-terminal; returns (process, its stdout pipe, what
    the terminal showed once the line with `until` was complete)."""
    import select
    import time
    master, slave = os.openpty()
    proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=slave, stdin=subprocess.DEVNULL)
    os.close(slave)
    shown, end = b"", time.monotonic() + timeout
    try:
        # Until the line holding `until` is complete (a read may end mid-line).
        while (until not in shown or b"\n" not in shown[shown.index(until):]) and \
                time.monotonic() < end:
            ready, _, _ = select.select([master], [], [], 0.5)
            if ready:
                try:
                    shown += os.read(master, 4096)
                except OSError:  # the process closed the terminal
                    break
    finally:
        os.close(master)
    return proc, shown.decode(errors="replace")


def test_serve_greets_a_terminal_with_where_to_connect_and_a_pipe_with_nothing():
    proc, shown = on_a_terminal([wspush_binary(), "serve", "--host", "127.0.0.1", "--port", "0",
                                 "--room", "/news", "--room", "/chat/*:relay",
                                 "--log-level", "warn"], b"curl -N")
    try:
        port = json.loads(proc.stdout.readline())["port"]
        for line in ("wspush serve on http://127.0.0.1:%d" % port,
                     "room  ws://127.0.0.1:%d/news  (feed)  page http://127.0.0.1:%d/news"
                     % (port, port),
                     "room  ws://127.0.0.1:%d/chat/*  (relay family)\r\n" % port,
                     "page  http://127.0.0.1:%d/  (the rooms, in a browser)" % port,
                     "curl -N http://127.0.0.1:%d/news" % port,
                     "API   http://127.0.0.1:%d/api/publish?room=/news" % port,
                     "wspush client ws://127.0.0.1:%d/news | jq .data" % port):
            assert line in shown, shown
    finally:
        proc.terminate()
        assert proc.wait(timeout=DEADLINE) == 0
    with Server("--room", "/news") as s:  # stderr is a file
        assert "room  ws://" not in s.stderr_text()


def test_bench_shows_progress_on_a_terminal_only():
    with Server("--room", "/r:relay") as s:
        args = [wspush_binary(), "bench", s.url("/r"), "--subscribers", "5", "--messages", "200"]
        proc, shown = on_a_terminal(args, b"1000 of 1000 deliveries (100 %)")
        proc.stdout.read()
        assert proc.wait(timeout=DEADLINE) == 0
        assert "\rwspush bench: 1000 of 1000 deliveries (100 %)" in shown, shown
        piped = subprocess.run(args, capture_output=True, text=True, timeout=DEADLINE * 3)
        assert piped.returncode == 0 and "deliveries (" not in piped.stderr
