"""/metrics (SPEC §4) read with Prometheus' own parser, moving by exactly what a scripted
scenario causes; who may scrape; /healthz asking every loop."""

import json
import time

from wspush_harness import (DEADLINE, Server, connect, frames, metrics, never_reading_member,
                            raw_handshake, raw_http, recv_json)


def frame_size(text):
    """Bytes of an unmasked server text frame carrying `text`."""
    n = len(text.encode())
    return n + (2 if n < 126 else 4 if n < 65536 else 10)


def delta(before, after, name):
    return after.get(name, 0) - before.get(name, 0)


def publish(server, room, body):
    status, _, answer = raw_http(
        "127.0.0.1", server.port,
        "POST /api/publish?room=%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
        % (room, len(body), body))
    assert status == 200, answer
    return json.loads(answer)


def wait_for(server, name, value):
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        m = metrics(server)
        if m.get(name) == value:
            return m
        time.sleep(0.05)
    raise AssertionError("%s never reached %s: %s" % (name, value, metrics(server).get(name)))


def test_counters_move_by_exactly_what_a_scenario_causes():
    with Server("--threads", "2", "--room", "/news", "--room", "/chat/*:relay",
                "--history", "2", "--send-buffer", "64KiB") as s:
        before = metrics(s)
        assert before["wspush_connections_open"] == 0
        assert before["wspush_loops"] == 2
        assert {'wspush_loop_queue_depth{loop="0"}', 'wspush_loop_queue_depth{loop="1"}'} <= set(before)

        # Three members of /news, two published messages, one refused handshake.
        members = [connect(s.url("/news")) for _ in range(3)]
        received = []
        for ws in members:
            received.append(ws.recv())
        for n in range(2):
            publish(s, "/news", json.dumps({"n": n}))
        for ws in members:
            received += [ws.recv(), ws.recv()]
        assert raw_handshake("127.0.0.1", s.port, "/nowhere")[0] == 404

        # A relay member publishes once; a resume is recovered, another is not.
        chat = connect(s.url("/chat/a"))
        received.append(chat.recv())
        chat.send(json.dumps({"event": "publish", "data": "hello"}))
        received.append(chat.recv())
        for n in range(2, 5):  # /news now holds seq 3..5 of 5 (history 2: 4..5)
            publish(s, "/news", json.dumps({"n": n}))
        for ws in members:
            received += [ws.recv() for _ in range(3)]
        full = connect(s.url("/news?since=3"))
        short = connect(s.url("/news?since=1"))
        for ws, replayed in ((full, 2), (short, 2)):
            texts = [ws.recv() for _ in range(2 + replayed)]  # welcome, recovery, replay
            assert json.loads(texts[1])["data"]["recovered"] is (ws is full)
            received += texts

        after = metrics(s)
        assert after["wspush_connections_open"] == 6
        assert delta(before, after, "wspush_connections_accepted_total") == 6
        assert delta(before, after, "wspush_messages_broadcast_total") == 6  # 5 + 1 relay
        assert delta(before, after, "wspush_messages_received_total") == 1
        assert delta(before, after, "wspush_deliveries_total") == len(received)
        assert delta(before, after, "wspush_sent_bytes_total") == sum(map(frame_size, received))
        assert delta(before, after, 'wspush_replays_total{recovered="true"}') == 1
        assert delta(before, after, 'wspush_replays_total{recovered="false"}') == 1
        assert delta(before, after, 'wspush_handshake_refusals_total{reason="unknown_room"}') == 1

        for ws in members + [chat, full, short]:
            ws.close()
        closed = wait_for(s, "wspush_connections_open", 0)
        assert delta(before, closed, "wspush_connections_closed_total") == 6

        # A member that never reads is cut off as a slow consumer: counted once.
        lazy = never_reading_member(s.port, "/news")
        for n in range(1000):  # 4 MB: past the 64 KiB queue and the kernel's buffers
            publish(s, "/news", json.dumps({"pad": "x" * 4000, "n": n}))
        last = frames(lazy, until=lambda opcode, payload: opcode == 8)[-1]
        assert int.from_bytes(last[1][:2], "big") == 4008
        lazy.close()
        cut = wait_for(s, "wspush_connections_open", 0)
        assert delta(closed, cut, "wspush_slow_consumer_disconnects_total") == 1

        # The process's own figures, under the client libraries' names.
        assert cut["process_open_fds"] >= 3 and cut["process_max_fds"] >= cut["process_open_fds"]
        assert cut["process_resident_memory_bytes"] > 1 << 20
        assert cut["process_cpu_seconds_total"] > 0
        assert abs(cut["process_start_time_seconds"] - time.time()) < 600


def test_who_may_scrape(tmp_path):
    # Loopback peers, or the API key; --public-metrics opens it.
    with Server("--api-key", "k") as s:
        status, _, _ = raw_http("127.0.0.1", s.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == 401
        assert "wspush_connections_open" in metrics(s, "Authorization: Bearer k\r\n")
    with Server("--api-key", "k", "--public-metrics") as s:
        assert "wspush_connections_open" in metrics(s)
    config = tmp_path / "c.json"
    config.write_text('{"api_key": "k", "public_metrics": true}')
    with Server("--config", str(config)) as s:
        assert "wspush_connections_open" in metrics(s)


def test_healthz_asks_every_loop():
    with Server("--threads", "3") as s:
        status, _, body = raw_http("127.0.0.1", s.port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        assert status == 200 and json.loads(body) == {"status": "ok"}


def test_default_loops_follow_the_cpus_the_process_may_use():
    with Server(wrapper=["taskset", "-c", "0"]) as s:  # one CPU in its affinity mask
        assert metrics(s)["wspush_loops"] == 1
        assert "1 event loop(s): one per CPU this process may use (1 in the affinity mask" \
            in s.stderr_text()
    with Server("--threads", "3", wrapper=["taskset", "-c", "0"]) as s:  # the flag wins
        assert metrics(s)["wspush_loops"] == 3
