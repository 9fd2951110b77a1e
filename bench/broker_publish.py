#!/usr/bin/python3
"""Publish throughput through a --broker node (issue #30), in the same session: the
current binary against a baseline (e.g. one from before EVALSHA), and the cost of
?wait=1 (a publish acknowledged once a replica has it).

    bench/broker_publish.py [--reps 3] [--lines 20000] [--baseline WSPUSH_BINARY]
                            [--build-dir build] [--json-out FILE]

Per run: a fresh redis-server (and, for ?wait=1, a replica of it) on free loopback
ports, one `wspush serve --broker` node, and `wspush publish --json` streaming --lines
lines of ~120 bytes into one room (256 in flight); publishes per second until the last
is acknowledged, and the redis-server's CPU per publish. Medians of --reps runs,
interleaved; ratios to the current binary with ?wait=0."""

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import Server  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Redis:
    def __init__(self, workdir, replica_of=None):
        self.port = free_port()
        argv = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--save", "",
                "--appendonly", "no", "--dir", workdir, "--daemonize", "no"]
        if replica_of:
            argv += ["--replicaof", "127.0.0.1", str(replica_of)]
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while subprocess.run(["redis-cli", "-p", str(self.port), "PING"], capture_output=True,
                             text=True).stdout.strip() != "PONG":
            assert time.monotonic() < deadline, "redis-server did not start"
            time.sleep(0.05)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=10)


def one_run(binary, wait, lines, workdir):
    primary = Redis(workdir)
    replica = Redis(workdir, replica_of=primary.port) if wait else None
    url = "redis://127.0.0.1:%d%s" % (primary.port, "?wait=1" if wait else "")
    server = Server("broker-node", [binary, "serve", "--host", "127.0.0.1", "--port", "0",
                                    "--log-level", "warn", "--room", "/bench,history=1000",
                                    "--broker", url], workdir)
    try:
        body = "".join('{"n":%d,"pad":"%s"}\n' % (i, "x" * 100) for i in range(lines)).encode()
        target = "http://127.0.0.1:%d/bench" % server.port
        deadline = time.monotonic() + 10  # the node reaches Redis
        while subprocess.run([binary, "publish", target, "1"], capture_output=True).returncode:
            assert time.monotonic() < deadline, "the node never reached Redis"
            time.sleep(0.1)
        cpu0 = cpu_seconds(primary.proc.pid)
        start = time.monotonic()
        r = subprocess.run([binary, "publish", "--json", target], input=body,
                           capture_output=True, timeout=600)
        elapsed = time.monotonic() - start
        cpu = cpu_seconds(primary.proc.pid) - cpu0
        if r.returncode != 0:
            raise RuntimeError("wspush publish exited %d: %s" % (r.returncode, r.stderr[-300:]))
        return {"publishes_per_s": lines / elapsed, "redis_cpu_us_per_publish": cpu / lines * 1e6}
    finally:
        server.stop()
        primary.stop()
        if replica:
            replica.stop()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--lines", type=int, default=20000)
    parser.add_argument("--baseline", help="another wspush binary to compare with")
    parser.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    parser.add_argument("--json-out")
    args = parser.parse_args()
    current = os.path.join(os.path.abspath(args.build_dir), "cmd", "wspush")
    cases = [("current", current, False), ("current ?wait=1", current, True)]
    if args.baseline:
        cases.insert(0, ("baseline", os.path.abspath(args.baseline), False))
    workdir = tempfile.mkdtemp(prefix="broker-publish-")
    try:
        runs = {name: [] for name, _, _ in cases}
        for _ in range(args.reps):
            for name, binary, wait in cases:
                runs[name].append(one_run(binary, wait, args.lines, workdir))
        medians = {n: {k: statistics.median(r[k] for r in rs) for k in rs[0]}
                   for n, rs in runs.items()}
        base = medians["current"]
        print("%-18s %14s %8s %24s %8s" % ("node", "publishes/s", "ratio",
                                          "redis CPU µs / publish", "ratio"))
        for name, _, _ in cases:
            m = medians[name]
            print("%-18s %14.0f %8.2f %24.1f %8.2f" % (
                name, m["publishes_per_s"], m["publishes_per_s"] / base["publishes_per_s"],
                m["redis_cpu_us_per_publish"],
                m["redis_cpu_us_per_publish"] / base["redis_cpu_us_per_publish"]))
        if args.json_out:
            with open(args.json_out, "w") as f:
                json.dump({"runs": runs, "medians": medians}, f, indent=1)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()
