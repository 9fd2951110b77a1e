"""`bench/run --scale`: how wspush's cost grows with the work. For each number of
subscribers (100, 1 000, 10 000, 100 000 by default) one server is started and measured
twice: one broadcast a second to all (`wspush bench --rate 1`) and a full window
(`--deliveries` per run). Reports server CPU per 1000 deliveries, RSS per idle
connection, the time to connect them all and p99 latency.

100 000 connections do not fit the ~28 000 ephemeral ports of one loopback address pair,
nor the default descriptor limit. For the run (and only then) it raises RLIMIT_NOFILE of
the server and the bench to what the kernel allows (a point that needs more than that
is skipped, with the reason, in the table), widens
net.ipv4.ip_local_port_range to 1024-65535 (as root; restored afterwards), and spreads
the subscribers over two server addresses: the server listens on `localhost`
(127.0.0.1 and ::1) and the bench connects to both (`--subscribe-url`), which doubles the
address pairs.
"""
import contextlib
import json
import os
import resource
import socket
import subprocess

PORT_RANGE = "/proc/sys/net/ipv4/ip_local_port_range"
WIDE_PORTS = "1024 65535"
ONE_PAIR = 25_000  # subscribers per address pair below which nothing needs changing
FD_SPARE = 64  # descriptors a process needs besides its connections


def raise_nofile():
    """As many descriptors as the kernel lets this process have (and so its children):
    up to fs.nr_open with CAP_SYS_RESOURCE, else the hard limit. Returns the limit."""
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    try:
        with open("/proc/sys/fs/nr_open") as f:
            want = min(int(f.read()), 1 << 20)
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, want))
        return want
    except (OSError, ValueError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
        return hard


def ipv6_loopback():
    try:
        with socket.socket(socket.AF_INET6) as s:
            s.bind(("::1", 0))
        return True
    except OSError:
        return False


@contextlib.contextmanager
def wide_port_range(log, needed):
    """Widens the ephemeral port range for the run if `needed` and allowed; restores it."""
    if not needed:
        yield
        return
    with open(PORT_RANGE) as f:
        before = f.read().strip()
    try:
        with open(PORT_RANGE, "w") as f:
            f.write(WIDE_PORTS)
        log(f"scale: ephemeral ports {WIDE_PORTS} for the run (was {before})")
    except OSError as e:
        log(f"scale: cannot widen the ephemeral port range ({e}); large runs may fail")
        yield
        return
    try:
        yield
    finally:
        with open(PORT_RANGE, "w") as f:
            f.write(before)
        log(f"scale: ephemeral ports back to {before}")


def run_point(wspush, server_class, workdir, subscribers, rate, messages, bench_threads):
    command = [wspush, "serve", "--host", "localhost", "--port", "0", "--room",
               "/bench:relay", "--log-level", "warn", "--max-connections", "0",
               "--handshake-rate", "0"]
    server = server_class("scale", command, workdir)
    try:
        urls = [f"ws://127.0.0.1:{server.port}/bench"]
        if subscribers > ONE_PAIR and ipv6_loopback():
            urls.append(f"ws://[::1]:{server.port}/bench")
        argv = [wspush, "bench", urls[0], "--json", "--subscribers", str(subscribers),
                "--messages", str(messages), "--timeout", "900s", "--settle", "2s",
                "--threads", str(bench_threads), "--server-pid", str(server.proc.pid)]
        for url in urls[1:]:
            argv += ["--subscribe-url", url]
        if rate:
            argv += ["--rate", str(rate)]
        bench = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               timeout=1200)
    finally:
        server.stop()
    lines = bench.stdout.strip().splitlines()
    result = json.loads(lines[-1]) if lines else {}
    result["exit"] = bench.returncode
    if bench.returncode != 0:
        result["error"] = bench.stderr.strip().splitlines()[-1:] or ["no output"]
    return result


def scale(wspush, server_class, workdir, sizes, deliveries, bench_threads, log, fmt):
    """Runs every point; returns (markdown table, all runs clean)."""
    rows, ok = [], True
    limit = raise_nofile()
    with wide_port_range(log, max(sizes) > ONE_PAIR and os.geteuid() == 0):
        for n in sizes:
            if n + FD_SPARE > limit:
                # One process holds them all: the server (and the bench) need n descriptors.
                why = (f"needs {n + FD_SPARE} descriptors; RLIMIT_NOFILE here is {limit} and "
                       "cannot be raised (no CAP_SYS_RESOURCE)")
                log(f"scale {n}: skipped: {why}")
                rows.append(f"| {n} | – | skipped: {why} |" + " |" * 7)
                continue
            for label, rate, messages in (("1 broadcast/s", 1, 10),
                                          ("full window", 0, max(1, deliveries // n))):
                r = run_point(wspush, server_class, workdir, n, rate, messages, bench_threads)
                clean = r["exit"] == 0 and not (r.get("lost") or r.get("duplicated") or
                                                r.get("reordered"))
                ok = ok and clean
                log(f"scale {n} {label}: exit {r['exit']}, cpu/1000 "
                    f"{fmt(r.get('server_cpu_us_per_1000_deliveries'), '{:.0f}')} µs, rss/conn "
                    f"{fmt(r.get('server_rss_kib_per_idle_connection'), '{:.2f}')} KiB, "
                    f"connect {fmt(r.get('connect_s'), '{:.1f}')} s"
                    + (f", {r['error']}" if "error" in r else ""))
                rows.append(
                    f"| {n} | {label} | {r.get('deliveries', '–')} | "
                    f"{fmt(r.get('server_cpu_us_per_1000_deliveries'), '{:.0f}')} | "
                    f"{fmt(r.get('server_rss_kib_per_idle_connection'), '{:.2f}')} | "
                    f"{fmt(r.get('connect_s'), '{:.2f}')} | "
                    f"{fmt(r.get('server_cpu_us_per_handshake'), '{:.0f}')} | "
                    f"{fmt(r.get('latency_p99_us'), '{:.0f}')} | "
                    f"{fmt(r.get('bench_cpu_share'), '{:.2f}')} | {'yes' if clean else 'NO'} |")
    head = ("| subscribers | load | deliveries | server CPU µs / 1000 deliveries | "
            "RSS KiB / idle connection | connect s | server CPU µs / handshake | "
            "p99 latency µs | bench CPU share | all delivered once, in order |\n"
            "|---|---|---|---|---|---|---|---|---|---|")
    return head + "\n" + "\n".join(rows), ok
