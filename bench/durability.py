#!/usr/bin/python3
"""What `serve --data-dir` costs a publisher (issue #30), against the same server in memory,
in the same session.

    bench/durability.py [--reps 3] [--stream 20000] [--requests 2000] [--rooms 1000]
                        [--per-room 1000] [--build-dir build] [--json-out FILE]

Per mode (memory; --data-dir with --fsync off, batch, always), medians of --reps runs:
- publish stream: `wspush publish` sends --stream lines over one connection with its
  window of 256 in flight; publishes per second until the last is acknowledged;
- HTTP: --requests POST /api/publish one after another on one keep-alive connection; the
  latency of each from the request to its answer, p50 and p99 (a publish is answered
  once it is kept: with `always`, after its fsync).
Then the restart: a data dir filled with --rooms rooms of a family × --per-room messages
(history=--per-room), the server stopped and started on it: the time to its listening
line, and the time for one HTTP publish into each room (the first reads the room's
history from the data dir) against a second round (rooms in memory).

The data dir is on the build directory's file system (not /tmp, which can be a tmpfs
where an fsync costs nothing)."""

import argparse
import http.client
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import Server  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
MODES = ["memory", "off", "batch", "always"]


def serve_command(wspush, mode, data_dir, *extra):
    command = [wspush, "serve", "--host", "127.0.0.1", "--port", "0", "--log-level", "warn",
               "--room", "/bench,history=1000", *extra]
    if mode != "memory":
        command += ["--data-dir", data_dir, "--fsync", mode]
    return command


def stream_rate(wspush, port, lines):
    body = "".join('{"n":%d,"pad":"%s"}\n' % (i, "x" * 100) for i in range(lines)).encode()
    start = time.monotonic()
    r = subprocess.run([wspush, "publish", "--json", "http://127.0.0.1:%d/bench" % port],
                       input=body, capture_output=True, timeout=600)
    elapsed = time.monotonic() - start
    if r.returncode != 0:
        raise RuntimeError("wspush publish exited %d: %s" % (r.returncode, r.stderr[-500:]))
    return lines / elapsed


def http_latencies(port, requests, room="/bench"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    body = json.dumps({"pad": "x" * 100})
    out = []
    for _ in range(requests):
        start = time.perf_counter()
        conn.request("POST", "/api/publish?room=" + room, body)
        answer = conn.getresponse()
        answer.read()
        out.append((time.perf_counter() - start) * 1e6)
        if answer.status != 200:
            raise RuntimeError("publish answered %d" % answer.status)
    conn.close()
    return out


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(len(values) * p))]


def one_run(wspush, mode, workdir, args):
    data_dir = os.path.join(workdir, "data-" + mode)
    shutil.rmtree(data_dir, ignore_errors=True)
    server = Server("durability-" + mode, serve_command(wspush, mode, data_dir), workdir)
    try:
        rate = stream_rate(wspush, server.port, args.stream)
        lat = http_latencies(server.port, args.requests)
    finally:
        server.stop()
    return {"stream_publishes_per_s": rate, "http_p50_us": percentile(lat, 0.5),
            "http_p99_us": percentile(lat, 0.99)}


def fill(wspush, workdir, rooms, per_room):
    """A data dir with `rooms` rooms of /r/* holding `per_room` messages each, written
    through the server itself (fsync off: the filling is not what is measured)."""
    data_dir = os.path.join(workdir, "data-restart")
    shutil.rmtree(data_dir, ignore_errors=True)
    family = "/r/*,history=%d" % per_room
    server = Server("durability-fill", serve_command(
        wspush, "off", data_dir, "--room", family, "--max-rooms-per-family", str(rooms + 1)),
        workdir)
    try:
        lines = "".join('{"n":%d,"pad":"%s"}\n' % (i, "x" * 100)
                        for i in range(per_room)).encode()
        running = []
        for k in range(rooms):
            running.append(subprocess.Popen(
                [wspush, "publish", "--json", "http://127.0.0.1:%d/r/%d" % (server.port, k)],
                stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))
            running[-1].stdin.write(lines)
            running[-1].stdin.close()
            if len(running) >= 8:
                if running.pop(0).wait(timeout=600) != 0:
                    raise RuntimeError("filling the data dir failed")
        for p in running:
            if p.wait(timeout=600) != 0:
                raise RuntimeError("filling the data dir failed")
    finally:
        server.stop()
    return data_dir, family


def restart(wspush, workdir, data_dir, family, rooms):
    command = serve_command(wspush, "batch", data_dir, "--room", family,
                            "--max-rooms-per-family", str(rooms + 1))
    start = time.monotonic()
    server = Server("durability-restart", command, workdir)
    listening_ms = (time.monotonic() - start) * 1000
    try:
        rounds = []
        for _ in range(2):
            conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
            t = time.monotonic()
            for k in range(rooms):
                conn.request("POST", "/api/publish?room=/r/%d" % k, "1")
                answer = conn.getresponse()
                answer.read()
                if answer.status != 200:
                    raise RuntimeError("publish answered %d" % answer.status)
            rounds.append((time.monotonic() - t) * 1000)
            conn.close()
    finally:
        server.stop()
    size_mib = os.path.getsize(os.path.join(data_dir, "data.mdb")) / (1 << 20)
    return {"listening_ms": listening_ms, "first_publish_each_room_ms": rounds[0],
            "second_round_ms": rounds[1], "data_mdb_mib": size_mib}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--stream", type=int, default=20000)
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rooms", type=int, default=1000)
    parser.add_argument("--per-room", type=int, default=1000)
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    parser.add_argument("--json-out")
    args = parser.parse_args()
    wspush = os.path.join(os.path.abspath(args.build_dir), "cmd", "wspush")
    workdir = tempfile.mkdtemp(prefix="durability-", dir=os.path.abspath(args.build_dir))
    try:
        results = {}
        for rep in range(args.reps):
            for mode in MODES:  # interleaved, so drift hits every mode alike
                results.setdefault(mode, []).append(one_run(wspush, mode, workdir, args))
        medians = {m: {k: statistics.median(r[k] for r in runs) for k in runs[0]}
                   for m, runs in results.items()}
        base = medians["memory"]
        print("%-16s %14s %8s %11s %8s %11s %8s" % ("mode", "stream pub/s", "ratio",
                                                   "HTTP p50 µs", "ratio", "HTTP p99 µs",
                                                   "ratio"))
        for mode in MODES:
            m = medians[mode]
            label = "memory" if mode == "memory" else "--fsync " + mode
            print("%-16s %14.0f %8.2f %11.0f %8.2f %11.0f %8.2f" % (
                label, m["stream_publishes_per_s"],
                m["stream_publishes_per_s"] / base["stream_publishes_per_s"],
                m["http_p50_us"], m["http_p50_us"] / base["http_p50_us"], m["http_p99_us"],
                m["http_p99_us"] / base["http_p99_us"]))
        data_dir, family = fill(wspush, workdir, args.rooms, args.per_room)
        r = restart(wspush, workdir, data_dir, family, args.rooms)
        print("\nrestart on %d rooms x %d messages (data.mdb %.0f MiB): listening after %.0f ms; "
              "a publish into each room: %.0f ms the first time (history read from disk), "
              "%.0f ms the second" % (args.rooms, args.per_room, r["data_mdb_mib"],
                                      r["listening_ms"], r["first_publish_each_room_ms"],
                                      r["second_round_ms"]))
        if args.json_out:
            with open(args.json_out, "w") as f:
                json.dump({"runs": results, "medians": medians, "restart": r}, f, indent=1)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
