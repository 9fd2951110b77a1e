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

    def __init__(self, aof=False, port=None):
        self.aof = aof
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
