#!/usr/bin/python3
"""Compression on the wire (issue #29), side by side with Node's `ws` in the same session.

    bench/compression.py [--reps 3] [--subscribers 1000,5000] [--deliveries 300000]
                         [--build-dir build] [--json-out FILE]

A realistic push: 1 KiB of JSON (`wspush bench --payload prices`: a price book, every
price and quantity its own, about 3x compressible) relayed to every subscriber, once with
clients that offer nothing and once with clients that offer permessage-deflate
(`wspush bench --compress`), against wspush (compression on, its default) and against a
Node `ws@8` relay with `perMessageDeflate` (ws's defaults: a deflate context per
connection, compressing per member; threshold 128 B like wspush's). Per run: bytes that
reached the subscribers' sockets per delivery (TCP_INFO), the server's CPU per 1000
deliveries (schedstat), its RSS per idle connection (before publishing) and the
deliveries per second. The figures are medians of --reps runs; the tables put each
server's compressed run over its plain one (ratios: these machines are noisy).

The load generator inflates every compressed delivery itself, on one thread: its CPU
share is printed, and when it is near 1 the deliveries per second are the bench's, not
the server's (the CPU per delivery is the server's own either way)."""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from servers import PEERS, Server, server_commands  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
METRICS = [
    ("wire_bytes_per_delivery", "wire bytes / delivery", "{:.0f}"),
    ("server_cpu_us_per_1000_deliveries", "server CPU µs / 1000 deliveries", "{:.0f}"),
    ("server_rss_kib_per_idle_connection", "server RSS KiB / idle connection", "{:.2f}"),
    ("deliveries_per_s", "deliveries/s", "{:.0f}"),
    ("latency_p50_us", "p50 latency µs", "{:.0f}"),
    ("bench_cpu_share", "bench CPU share", "{:.2f}"),
]


def log(*args):
    print("bench/compression:", *args, file=sys.stderr, flush=True)


def commands(build_dir, workdir):
    _, c = server_commands(build_dir, workdir)
    relay = os.path.join(PEERS, "node", "relay.js")
    return {
        ("wspush", False): c["wspush"],
        ("wspush", True): c["wspush"],  # --compression on is the default: the client asks
        ("node", False): ["node", relay],
        ("node", True): ["node", relay, "--deflate"],
    }


def run(wspush, command, subscribers, messages, compress, workdir):
    server = Server("compression", command, workdir)
    try:
        argv = [wspush, "bench", f"ws://127.0.0.1:{server.port}/bench", "--json",
                "--subscribers", str(subscribers), "--messages", str(messages),
                "--size", "1024", "--payload", "prices", "--timeout", "300s",
                "--server-pid", str(server.proc.pid), *(["--compress"] if compress else [])]
        r = subprocess.run(argv, capture_output=True, text=True, timeout=600)
    finally:
        server.stop()
    if r.returncode != 0 or not r.stdout.strip():
        raise SystemExit(f"bench/compression: {' '.join(argv)} failed: {r.stderr.strip()}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def median(runs, key):
    values = [r[key] for r in runs if r.get(key) is not None]
    return statistics.median(values) if values else None


def fmt(value, pattern):
    return "—" if value is None else pattern.format(value)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--reps", type=int, default=3)
    p.add_argument("--subscribers", default="1000,5000")
    p.add_argument("--deliveries", type=int, default=300_000)
    p.add_argument("--build-dir", default=os.path.join(ROOT, "build"))
    p.add_argument("--json-out")
    a = p.parse_args()
    wspush = os.path.join(a.build_dir, "cmd", "wspush")
    node_dir = os.path.join(PEERS, "node")
    if not os.path.isdir(os.path.join(node_dir, "node_modules", "ws")):
        subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=node_dir, check=True)
    results = {}
    with tempfile.TemporaryDirectory(prefix="wspush-compression-") as workdir:
        cmds = commands(a.build_dir, workdir)
        for subs in [int(s) for s in a.subscribers.split(",")]:
            messages = max(10, a.deliveries // subs)
            for rep in range(a.reps):  # interleaved, so drift hits every column alike
                for (name, compress), command in cmds.items():
                    log(f"{subs} subscribers, {name}, {'deflate' if compress else 'plain'}, "
                        f"run {rep + 1}/{a.reps}")
                    key = f"{subs}/{name}/{'deflate' if compress else 'plain'}"
                    results.setdefault(key, []).append(
                        run(wspush, command, subs, messages, compress, workdir))
    if a.json_out:
        with open(a.json_out, "w") as f:
            json.dump(results, f, indent=1)
    for subs in [int(s) for s in a.subscribers.split(",")]:
        print(f"\n{subs} subscribers × 1 KiB JSON (price book), medians of {a.reps}\n")
        print("| | wspush plain | wspush deflate | deflate / plain | ws plain | ws deflate "
              "| deflate / plain | ws deflate / wspush deflate |")
        print("|---|---|---|---|---|---|---|---|")
        for key, label, pattern in METRICS:
            m = {k: median(results[f"{subs}/{k}"], key) for k in
                 ("wspush/plain", "wspush/deflate", "node/plain", "node/deflate")}

            def ratio(x, y):
                return f"{m[x] / m[y]:.2f}×" if m[x] and m[y] else "—"

            print(f"| {label} | {fmt(m['wspush/plain'], pattern)} | "
                  f"{fmt(m['wspush/deflate'], pattern)} | {ratio('wspush/deflate', 'wspush/plain')} | "
                  f"{fmt(m['node/plain'], pattern)} | {fmt(m['node/deflate'], pattern)} | "
                  f"{ratio('node/deflate', 'node/plain')} | {ratio('node/deflate', 'wspush/deflate')} |")


if __name__ == "__main__":
    main()
