"""The servers bench/run measures: how each is started (wspush, its peers, a two-node
wspush over a redis-server), on a free loopback port, and stopped by its own PID."""
import os
import re
import signal
import socket
import subprocess
import time

PEERS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "peers")


def tls_pair(workdir):
    cert, key = os.path.join(workdir, "bench.crt"), os.path.join(workdir, "bench.key")
    if not os.path.exists(cert):
        subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:P-256", "-nodes", "-days", "1", "-subj",
                        "/CN=localhost", "-addext", "subjectAltName=IP:127.0.0.1",
                        "-keyout", key, "-out", cert], check=True, capture_output=True)
    return cert, key


# Every wspush declares the relay room /bench and the relay family /bench/* (the rooms
# of `wspush bench --rooms`, followed over one connection).
def server_commands(build_dir, workdir, baseline=None):
    wspush = os.path.join(build_dir, "cmd", "wspush")
    cert, key = tls_pair(workdir)
    commands = {
        "wspush": [wspush, "serve", "--host", "127.0.0.1", "--port", "0", "--room",
                   "/bench:relay", "--room", "/bench/*:relay", "--log-level", "warn"],
        # One event loop instead of one per core: on a machine whose cores the load
        # generator shares, the difference is the cost of the second loop.
        "wspush-1": [wspush, "serve", "--host", "127.0.0.1", "--port", "0", "--room",
                     "/bench:relay", "--room", "/bench/*:relay", "--log-level", "warn", "--threads", "1"],
        # The sendmsg send path: one call per member and loop turn.
        "wspush-sendmsg": [wspush, "serve", "--host", "127.0.0.1", "--port", "0", "--room",
                           "/bench:relay", "--room", "/bench/*:relay", "--log-level", "warn", "--send-path", "sendmsg"],
        "wspush-sendmsg-1": [wspush, "serve", "--host", "127.0.0.1", "--port", "0", "--room",
                             "/bench:relay", "--room", "/bench/*:relay", "--log-level", "warn", "--send-path", "sendmsg",
                             "--threads", "1"],
        "wspush-tls": [wspush, "serve", "--host", "127.0.0.1", "--port", "0", "--room",
                       "/bench:relay", "--room", "/bench/*:relay", "--log-level", "warn", "--tls-cert", cert,
                       "--tls-key", key],
        "wspp": [os.path.join(build_dir, "wspp-relay")],
        "node": ["node", os.path.join(PEERS, "node", "relay.js")],
        "python": ["/usr/bin/python3", os.path.join(PEERS, "relay_websockets.py")],
    }
    # Two nodes and a Redis, started by run_one (see Cluster).
    commands["wspush-redis"] = commands["wspush"]
    if baseline:
        commands["base"] = [baseline, *commands["wspush"][1:]]
        commands["base-1"] = [baseline, *commands["wspush-1"][1:]]
    return wspush, commands


class Server:
    """One server process on a free port; stopped by its own PID."""

    def __init__(self, name, command, workdir, preexec_fn=None):
        self.name = name
        self.out_path = os.path.join(workdir, name + ".out")
        self.out = open(self.out_path, "w+")
        self.proc = subprocess.Popen(command, stdout=self.out, stderr=subprocess.STDOUT,
                                     stdin=subprocess.DEVNULL, preexec_fn=preexec_fn)
        self.port = self._wait_port()

    def _wait_port(self):
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            self.out.seek(0)
            found = re.search(r'"?port"?[: ]\s*(\d+)', self.out.read())
            if found:
                return int(found.group(1))
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise RuntimeError(f"{self.name} did not start: see {self.out_path}")

    def stop(self):
        stop_process(self.proc)
        self.out.close()


def stop_process(proc, sig=signal.SIGTERM):
    """Sends `sig` to a process we started (by its PID), SIGKILL after 10 s; waits."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def cpu_ticks(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime + stime


class Cluster:
    """A redis-server on a free port and two wspush nodes with --broker; stopped by PID."""

    def __init__(self, command, workdir):
        port = free_port()
        self.redis = subprocess.Popen(
            ["redis-server", "--bind", "127.0.0.1", "--port", str(port), "--save", "",
             "--appendonly", "no", "--dir", workdir], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, stdin=subprocess.DEVNULL)
        broker = ["--broker", f"redis://127.0.0.1:{port}"]
        self.nodes = []
        try:
            for k in range(2):
                self.nodes.append(Server(f"wspush-redis-{k}", command + broker, workdir))
        except Exception:
            self.stop()
            raise

    def stop(self):
        for node in self.nodes:
            node.stop()
        stop_process(self.redis)
