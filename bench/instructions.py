#!/usr/bin/python3
"""User-space instructions per delivery and per handshake of a wspush binary, counted by
callgrind: deterministic for one binary and input, whatever else the machine does, so a
before/after comparison needs one run each (wall-clock CPU on a shared 2-core machine
varies as much between runs as between binaries).

    bench/instructions.py BINARY [--threads 1] [--subscribers 1000] [--messages 300]
                                 [--handshakes 2000] [--rooms 1] [--keep DIR]

Starts `BINARY serve --send-path sendmsg` under callgrind with instrumentation off,
points `BINARY bench` at a relay room on it, and counts while the bench publishes (per
delivery: subscribers + 1 per message) and, in a second run, while its subscribers
connect (per handshake). With --rooms N, every connection follows N rooms of a relay
family over one connection (`wspush bench --rooms`) and the probes are spread over them.
--keep DIR keeps the callgrind files (for callgrind_annotate). Prints one JSON line."""

import argparse
import glob
import json
import os
import subprocess
import sys
import tempfile
import time


def count(binary, threads, subscribers, messages, phase, workdir, rooms=1):
    out = os.path.join(workdir, f"callgrind.{phase}")
    server = subprocess.Popen(
        ["valgrind", "--tool=callgrind", "--instr-atstart=no", f"--callgrind-out-file={out}",
         binary, "serve", "--threads", str(threads), "--port", "0", "--host", "127.0.0.1",
         "--room", "/r:relay", "--room", "/r/*:relay", "--log-level", "warn",
         "--send-path", "sendmsg"],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    try:
        port = json.loads(server.stdout.readline())["port"]
        toggle = lambda on: subprocess.run(  # noqa: E731
            ["callgrind_control", "-i", "on" if on else "off", str(server.pid)],
            check=True, capture_output=True)
        if phase == "handshake":
            toggle(True)
        bench = subprocess.Popen(
            [binary, "bench", f"ws://127.0.0.1:{port}/r", "--subscribers", str(subscribers),
             "--messages", str(messages), "--window", "16", "--settle", "0s",
             "--timeout", "600s", "--rooms", str(rooms)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        for line in bench.stderr:
            if "wspush bench: publishing" in line:
                toggle(phase == "delivery")
                if phase == "handshake":
                    break
            elif "wspush bench: published" in line:
                toggle(False)
                break
        bench.wait(timeout=600)
    finally:
        server.terminate()
        server.wait(timeout=60)
    total = 0
    for f in glob.glob(out + "*"):
        for line in open(f):
            if line.startswith(("summary:", "totals:")):
                total = max(total, int(line.split()[1]))
    return total


def main():
    p = argparse.ArgumentParser()
    p.add_argument("binary")
    p.add_argument("--threads", type=int, default=1)
    p.add_argument("--subscribers", type=int, default=1000)
    p.add_argument("--messages", type=int, default=300)
    p.add_argument("--handshakes", type=int, default=2000)
    p.add_argument("--rooms", type=int, default=1)
    p.add_argument("--keep", help="a directory to keep the callgrind files in")
    a = p.parse_args()
    with tempfile.TemporaryDirectory(prefix="wspush-callgrind-") as scratch:
        workdir = a.keep or scratch
        deliveries = (a.subscribers + 1) * a.messages
        per_delivery = count(a.binary, a.threads, a.subscribers, a.messages, "delivery",
                             workdir, a.rooms) / deliveries
        per_handshake = count(a.binary, a.threads, a.handshakes, 1, "handshake",
                              workdir, a.rooms) / a.handshakes
    print(json.dumps({"binary": a.binary, "threads": a.threads, "rooms": a.rooms,
                      "instructions_per_delivery": round(per_delivery, 1),
                      "instructions_per_handshake": round(per_handshake)}))


if __name__ == "__main__":
    sys.exit(main())
