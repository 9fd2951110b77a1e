"""`serve --data-dir` (SPEC §8.1, issue #30): a single node's rooms keep their epoch,
seqs and history across restarts, kill -9 included; a data dir that is not wspush's is
refused and left as it was. Real binary, real LMDB files, real restarts."""

import json
import os
import signal
import subprocess
import threading
import time

import pytest

from wspush_harness import (DEADLINE, Server, Stream, connect, post, raw_http, recv_json,
                            run_wspush, stop_process, wspush_binary)


def recovery(server, path, since, epoch=None):
    """Connects with ?since= (and &epoch=); the recovery event and the replayed messages."""
    query = "?since=%d" % since + ("&epoch=%d" % epoch if epoch else "")
    ws = connect(server.url(path + query))
    try:
        assert recv_json(ws)["event"] == "notification"
        event = recv_json(ws)
        assert event["event"] == "recovery", event
        return event["data"], [recv_json(ws) for _ in range(event["data"]["replayed"])]
    finally:
        ws.close()


def data_mdb_size(directory):
    return os.path.getsize(os.path.join(directory, "data.mdb"))


def test_a_restart_keeps_epoch_seqs_and_history(tmp_path):
    d = str(tmp_path / "data")
    with Server("--room", "/news", "--data-dir", d) as s:
        for i in range(1, 6):
            assert post(s, "/news", {"n": i}) == i
        first, _ = recovery(s, "/news", 5)
        port = s.port
    with Server("--room", "/news", "--data-dir", d, port=port) as s:
        data, replay = recovery(s, "/news", 3, first["epoch"])
        assert data["recovered"] is True and data["epoch"] == first["epoch"]
        assert [m["data"]["n"] for m in replay] == [4, 5]
        assert [m["seq"] for m in replay] == [4, 5]
        assert post(s, "/news", {"n": 6}) == 6
        assert "data dir: history kept in" in s.stderr_text()


def publish_until_cut(server, acked, stop):
    """HTTP publishes one after another into /feed; each acknowledged seq and its n are
    appended to `acked` until the server stops answering (or `stop` is set)."""
    n = 0
    while not stop.is_set():
        n += 1
        body = json.dumps({"n": n})
        try:
            status, _, answer = raw_http(
                "127.0.0.1", server.port,
                "POST /api/publish?room=/feed HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
                % (len(body), body))
        except (OSError, ValueError):  # refused, reset, or cut before its answer
            return
        if status != 200:
            return
        acked.append((json.loads(answer)["seq"], n))


@pytest.mark.parametrize("fsync", ["always", "batch"])
def test_kill_9_loses_nothing_acknowledged_and_clients_resume(tmp_path, fsync):
    d = str(tmp_path / "data")
    args = ("--room", "/feed", "--history", "100000", "--data-dir", d, "--fsync", fsync)
    acked, stop = [], threading.Event()
    s = Server(*args).__enter__()
    try:
        port = s.port
        follower = Stream(s.url("/feed"), "--reconnect", "--reconnect-max", "300ms")
        assert follower.read(1)[0]["event"] == "notification"
        publisher = threading.Thread(target=publish_until_cut, args=(s, acked, stop))
        publisher.start()
        deadline = time.monotonic() + DEADLINE
        while len(acked) < 300 and time.monotonic() < deadline:
            time.sleep(0.01)
    finally:
        s.proc.send_signal(signal.SIGKILL)  # kill -9, mid-stream: no goodbye
        s.proc.wait(timeout=DEADLINE)
        stop.set()
        publisher.join(timeout=DEADLINE)
    assert len(acked) >= 300
    with follower, Server(*args, port=port) as s:
        # Every acknowledged publish is there, as it was acknowledged.
        data, replay = recovery(s, "/feed", 0)
        kept = {m["seq"]: m["data"]["n"] for m in replay}
        assert all(kept.get(seq) == n for seq, n in acked), "an acknowledged publish is missing"
        assert sorted(kept) == list(range(1, data["last_seq"] + 1))  # no gap in the seqs
        last = post(s, "/feed", {"n": "after"})
        assert last == data["last_seq"] + 1
        # The follower came back on its own, resumed in the same epoch and saw every
        # message once, in order.
        seqs, recovered = [], []
        deadline = time.monotonic() + DEADLINE * 2
        while (not seqs or seqs[-1] < last) and time.monotonic() < deadline:
            line = follower.read(1, timeout=DEADLINE)[0]
            if line.get("event") == "recovery":
                recovered.append(line["data"]["recovered"])
            elif "seq" in line:
                seqs.append(line["seq"])
        assert recovered and all(recovered), follower.stderr()
        assert seqs == list(range(1, last + 1))
        assert "new epoch" not in s.stderr_text()


def test_history_on_disk_stays_bounded_by_the_room_s_history(tmp_path):
    d = str(tmp_path / "data")
    with Server("--room", "/r,history=10", "--data-dir", d) as s:
        for i in range(1, 401):
            post(s, "/r", {"n": i, "pad": "x" * 500})
        size_after_400 = data_mdb_size(d)
        for i in range(401, 1601):
            post(s, "/r", {"n": i, "pad": "x" * 500})
        port = s.port
    # 1200 more messages of 0.5 KiB (600 KiB) and the file has not grown by their size:
    # LMDB reuses the pages of the messages that fell out of the room's last 10.
    assert data_mdb_size(d) <= size_after_400 + 128 * 1024
    with Server("--room", "/r,history=10", "--data-dir", d, port=port) as s:
        data, replay = recovery(s, "/r", 1590)
        assert data["recovered"] is True
        assert [m["seq"] for m in replay] == list(range(1591, 1601))
        # A smaller history than the last run's: the older ones are not replayed, and
        # go from the disk with the next publish.
    with Server("--room", "/r,history=3", "--data-dir", d, port=port) as s:
        data, replay = recovery(s, "/r", 0)
        assert data["recovered"] is False and [m["seq"] for m in replay] == [1598, 1599, 1600]


def serve_exit(*args):
    """Runs `wspush serve --port 0 ARGS`, which is expected to refuse to start."""
    r = subprocess.run([wspush_binary(), "serve", "--port", "0", *args], capture_output=True,
                       text=True, timeout=DEADLINE, stdin=subprocess.DEVNULL)
    return r.returncode, r.stderr


def test_a_directory_that_is_not_a_wspush_data_dir_is_refused_and_left_alone(tmp_path):
    foreign = tmp_path / "etc"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("mine\n")
    code, err = serve_exit("--data-dir", str(foreign))
    assert code == 3, err
    assert "is not a wspush data dir: it holds notes.txt" in err
    assert sorted(os.listdir(foreign)) == ["notes.txt", "wspush.lock"]
    assert (foreign / "notes.txt").read_text() == "mine\n"


def test_a_corrupted_data_mdb_is_refused_and_left_alone(tmp_path):
    d = tmp_path / "data"
    with Server("--room", "/news", "--data-dir", str(d)) as s:
        post(s, "/news", {"n": 1})
    garbage = b"\x42" * 8192
    (d / "data.mdb").write_bytes(garbage)
    code, err = serve_exit("--room", "/news", "--data-dir", str(d))
    assert code == 3, err
    assert "data.mdb is not an LMDB database wspush can read" in err
    assert (d / "data.mdb").read_bytes() == garbage


def test_another_program_s_lmdb_is_refused(tmp_path):
    d = tmp_path / "lmdb"
    d.mkdir()
    # mdb_load -T: lines of key, then value (Debian's lmdb-utils).
    subprocess.run(["mdb_load", "-T", str(d)], input="key\nvalue\n", text=True, check=True,
                   timeout=DEADLINE)
    code, err = serve_exit("--data-dir", str(d))
    assert code == 3, err
    assert "an LMDB database but not wspush's" in err


def test_a_data_dir_serves_one_process_at_a_time(tmp_path):
    d = str(tmp_path / "data")
    with Server("--room", "/news", "--data-dir", d):
        code, err = serve_exit("--room", "/news", "--data-dir", d)
        assert code == 3, err
        assert "in use by another wspush serve" in err


def test_data_dir_and_broker_exclude_each_other(tmp_path):
    code, err = serve_exit("--data-dir", str(tmp_path), "--broker", "redis://127.0.0.1:1")
    assert code == 2 and "--data-dir excludes --broker" in err
