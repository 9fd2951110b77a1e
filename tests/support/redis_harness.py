"""A real redis-server for the broker tests (SPEC §8): on a free loopback port, in a
temporary directory, stopped by its own PID. Talked to with redis-cli."""

import os
import shutil
import signal
import subprocess
import tempfile
import time

from wspush_harness import DEADLINE, free_port, stop_process


def have_redis():
    return shutil.which("redis-server") is not None and shutil.which("redis-cli") is not None


class Redis:
    """redis-server on 127.0.0.1. `aof=True` keeps every write (appendfsync always), so
    a restart loses nothing; otherwise nothing is kept across a restart."""

    def __init__(self, aof=False, port=None, extra=()):
        self.aof = aof
        self.extra = list(extra)  # e.g. ["--replicaof", "127.0.0.1", "6379"]
        self.port = port or free_port()
        self.dir = tempfile.mkdtemp(prefix="wspush-redis-")
        self.proc = None

    @property
    def url(self):
        return "redis://127.0.0.1:%d" % self.port

    def start(self):
        argv = ["redis-server", "--bind", "127.0.0.1", "--port", str(self.port), "--dir",
                self.dir, "--save", "", "--daemonize", "no", "--protected-mode", "no"]
        argv += ["--appendonly", "yes", "--appendfsync", "always"] if self.aof else \
            ["--appendonly", "no"]
        argv += self.extra
        self.log = open(os.path.join(self.dir, "redis.log"), "wb")
        self.proc = subprocess.Popen(argv, stdout=self.log, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL)
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("redis-server exited: " + open(self.log.name).read())
            if self.cli("PING", check=False) == "PONG":
                return self
            time.sleep(0.05)
        raise RuntimeError("redis-server did not answer PING")

    def stop(self, sig=signal.SIGTERM):
        """Stops it (SIGTERM: it writes its AOF and exits; SIGKILL: it just dies)."""
        stop_process(self.proc, sig)
        self.proc = None

    def restart(self):
        self.stop()
        return self.start()

    def cli(self, *args, check=True):
        r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(self.port), *args],
                           capture_output=True, text=True, timeout=DEADLINE)
        if check and r.returncode != 0:
            raise AssertionError("redis-cli %s: %s" % (args, r.stderr))
        return r.stdout.strip()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


class Sentinels:
    """A primary, two replicas and three sentinels (redis-server --sentinel) watching
    them as `mymaster`, all on free loopback ports: the failover Redis Sentinel does (two
    replicas, so that one is left to acknowledge writes once the other is promoted). The
    sentinels decide quickly (down after 1 s) so a test waits seconds, not minutes."""

    def __init__(self):
        self.primary = Redis(aof=True)
        self.replicas = []
        self.sentinel_ports = [free_port() for _ in range(3)]
        self.dir = tempfile.mkdtemp(prefix="wspush-sentinel-")
        self.procs = []

    @property
    def url(self):
        return "redis-sentinel://%s/mymaster" % ",".join(
            "127.0.0.1:%d" % p for p in self.sentinel_ports)

    def __enter__(self):
        self.primary.start()
        for _ in range(2):
            self.replicas.append(Redis(aof=True, extra=["--replicaof", "127.0.0.1",
                                                        str(self.primary.port)]).start())
        for port in self.sentinel_ports:
            conf = os.path.join(self.dir, "sentinel-%d.conf" % port)
            with open(conf, "w") as f:
                f.write("port %d\nbind 127.0.0.1\ndir %s\n"
                        "sentinel monitor mymaster 127.0.0.1 %d 2\n"
                        "sentinel down-after-milliseconds mymaster 1000\n"
                        "sentinel failover-timeout mymaster 4000\n"
                        "sentinel parallel-syncs mymaster 1\n"
                        % (port, self.dir, self.primary.port))
            log = open(conf + ".log", "wb")
            self.procs.append(subprocess.Popen(["redis-server", conf, "--sentinel"], stdout=log,
                                               stderr=subprocess.STDOUT,
                                               stdin=subprocess.DEVNULL))
        self.wait(lambda: all(self.primary_port(p) == self.primary.port
                              for p in self.sentinel_ports), "the sentinels to see the primary")
        self.wait(lambda: "slave1:" in self.primary.cli("INFO", "replication"),
                  "the replicas to connect")
        return self

    def primary_port(self, sentinel_port):
        r = subprocess.run(["redis-cli", "-h", "127.0.0.1", "-p", str(sentinel_port), "SENTINEL",
                            "get-master-addr-by-name", "mymaster"], capture_output=True,
                           text=True, timeout=DEADLINE)
        lines = r.stdout.split()
        return int(lines[1]) if r.returncode == 0 and len(lines) == 2 else None

    @staticmethod
    def wait(predicate, what, timeout=DEADLINE * 3):
        end = time.monotonic() + timeout
        while not predicate():
            assert time.monotonic() < end, "timed out waiting for " + what
            time.sleep(0.1)

    def __exit__(self, *exc):
        for proc in self.procs:
            stop_process(proc, signal.SIGKILL)
        for r in [self.primary, *self.replicas]:
            r.__exit__()
        shutil.rmtree(self.dir, ignore_errors=True)
