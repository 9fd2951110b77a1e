"""Start the real wspush binary on --port 0 and talk to it, for the integration and
interop tests. Every wait has a deadline; every process is stopped by its own PID."""

import json
import os
import select
import signal
import socket
import subprocess
import tempfile
import time
import weakref

import websocket  # Debian's python3-websocket (websocket-client)
from prometheus_client.parser import text_string_to_metric_families

DEADLINE = 10.0  # seconds: generous, never a measure of speed

# Raw-socket helpers, imported from here by the tests as ever.
from raw_socket import (flood_until_closed, frames, never_reading_member,  # noqa: E402,F401
                        raw_handshake, raw_http, read_responses)


def file_text(f):
    """What a child process has written so far into the temporary file `f`. pread, not
    seek+read: the child shares the file offset, and a seek back to 0 would make its next
    line overwrite the start of the file."""
    chunks, offset = [], 0
    while True:
        chunk = os.pread(f.fileno(), 1 << 20, offset)
        if not chunk:
            return b"".join(chunks).decode(errors="replace")
        chunks.append(chunk)
        offset += len(chunk)


def wspush_binary():
    path = os.environ.get("WSPUSH_BIN")
    if not path:
        raise RuntimeError("set WSPUSH_BIN to the wspush binary (ctest does)")
    return path


class Server:
    """A `wspush serve` process. Use as a context manager; it is always stopped."""

    def __init__(self, *args, host="127.0.0.1", port=0, stdin=False, wrapper=(),
                 preexec_fn=None, env=None):
        """port: 0 (the kernel picks one), or the port of a server stopped before, to
        start it again where its clients reconnect. preexec_fn: run in the child before
        the binary (e.g. a seccomp filter). env: variables added to this environment."""
        self.env = dict(os.environ, **env) if env else None
        self.wrapper = list(wrapper)  # e.g. ["taskset", "-c", "0"]
        self.preexec_fn = preexec_fn
        self.want_stdin = stdin or "--stdin" in args
        self.args = ["serve", "--host", host, "--port", str(port), "--log-level", "debug",
                     *args]
        self.host = host
        self.proc = None
        self.port = None
        self.listening = None
        self.log = tempfile.TemporaryFile()

    def __enter__(self):
        self.proc = subprocess.Popen(
            [*self.wrapper, wspush_binary(), *self.args],
            stdout=subprocess.PIPE,
            stderr=self.log,  # a file, not a pipe: a full pipe would stall the server
            stdin=subprocess.PIPE if self.want_stdin else subprocess.DEVNULL,
            preexec_fn=self.preexec_fn,
            env=self.env,
        )
        line = read_line(self.proc.stdout, DEADLINE)
        if not line:
            self.stop()
            raise RuntimeError("server printed no listening line; stderr: %s" % self.stderr_text())
        self.listening = line
        self.port = json.loads(line)["port"]
        return self

    def __exit__(self, exc_type, *exc):
        code = self.stop()
        # A sanitizer report, a crash or a failed shutdown shows up here.
        if exc_type is None and code != 0:
            raise AssertionError("wspush serve exited %s; stderr:\n%s" % (code, self.stderr_text()))

    def url(self, path="/nowtime", scheme="ws"):
        host = "[%s]" % self.host if ":" in self.host else self.host
        return "%s://%s:%d%s" % (scheme, host, self.port, path)

    def proc_stdin_write(self, data):
        self.proc.stdin.write(data)
        self.proc.stdin.flush()

    def proc_stdin_close(self):
        self.proc.stdin.close()

    def signal(self, signo):
        self.proc.send_signal(signo)

    def wait(self, timeout=DEADLINE):
        return self.proc.wait(timeout=timeout)

    def stop(self):
        """SIGTERM, then SIGKILL after the deadline; returns the exit status."""
        return stop_process(self.proc)

    def stderr_text(self):
        return file_text(self.log)


def stop_process(proc, sig=signal.SIGTERM):
    """Sends `sig` to a process we started (by its PID), SIGKILL if it is still there
    after the deadline; returns its exit status (None if it never started)."""
    if proc and proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout=DEADLINE)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=DEADLINE)
    return proc.returncode if proc else None


_unread = weakref.WeakKeyDictionary()  # a pipe -> bytes read past the last line returned


def read_line(stream, timeout):
    """One line from a pipe, or b"" when the deadline passes first (what was read of
    it stays for the next call). Reads in chunks: a client's 500 kB lines take
    milliseconds, not a system call a byte."""
    fd = stream.fileno()
    buf = _unread.pop(stream, b"")
    end = time.monotonic() + timeout
    while b"\n" not in buf:
        left = end - time.monotonic()
        ready = select.select([fd], [], [], left)[0] if left > 0 else []
        if not ready:
            _unread[stream] = buf
            return b""
        chunk = os.read(fd, 1 << 16)
        if not chunk:
            return buf
        buf += chunk
    line, rest = buf.split(b"\n", 1)
    if rest:
        _unread[stream] = rest
    return line + b"\n"


def unread(stream):
    """What read_line took from the pipe and has not returned yet."""
    return _unread.pop(stream, b"")


def connect(url, **kw):
    return websocket.create_connection(url, timeout=DEADLINE, **kw)


def recv_json(ws):
    return json.loads(ws.recv())


def recv_close(ws):
    """Reads frames until the server's close frame; returns (code, reason, data_frames)."""
    data_frames = []
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
            return code, data[2:].decode(), data_frames
        if opcode in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY):
            data_frames.append(data)
    raise AssertionError("no close frame within the deadline")


def post(server, room, data):
    """Publishes `data` into `room` through the HTTP API; the seq it got."""
    body = json.dumps(data)
    status, _, answer = raw_http(
        "127.0.0.1", server.port,
        "POST /api/publish?room=%s HTTP/1.1\r\nHost: x\r\nContent-Length: %d\r\n\r\n%s"
        % (room, len(body), body))
    assert status == 200, answer
    return json.loads(answer)["seq"]


def metrics(server, request_headers=""):
    """GET /metrics parsed by Prometheus' own text parser (Debian's
    python3-prometheus-client) as {sample: value}, e.g. {'wspush_connections_open': 0,
    'wspush_handshake_refusals_total{reason="key"}': 2}."""
    status, headers, body = raw_http(
        "127.0.0.1", server.port, "GET /metrics HTTP/1.1\r\nHost: x\r\n%s\r\n" % request_headers)
    assert status == 200, body
    assert headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    out = {}
    for family in text_string_to_metric_families(body):
        for sample in family.samples:
            labels = ",".join('%s="%s"' % kv for kv in sorted(sample.labels.items()))
            out[sample.name + ("{%s}" % labels if labels else "")] = sample.value
    return out


SUPPORT = os.path.dirname(os.path.abspath(__file__))
PYTHON = "/usr/bin/python3"  # Debian's, with python3-websockets and python3-websocket


class Helper:
    """A helper process (Python) that prints {"port": P} when ready; stopped by PID."""

    def __init__(self, argv, cwd=None):
        self.argv = argv
        self.cwd = cwd
        self.log = tempfile.TemporaryFile()

    def __enter__(self):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.PIPE, stderr=self.log,
                                     stdin=subprocess.DEVNULL, cwd=self.cwd)
        line = read_line(self.proc.stdout, DEADLINE)
        if not line:
            self.__exit__()
            raise RuntimeError("%s did not start: %s" % (self.argv, file_text(self.log)))
        self.port = json.loads(line)["port"]
        return self

    def lines(self, timeout=1.0):
        """Further JSON lines it printed (e.g. what a proxy saw), until a pause of `timeout`."""
        out = []
        while True:
            line = read_line(self.proc.stdout, timeout)
            if not line:
                return out
            out.append(json.loads(line))

    def next_line(self):
        line = read_line(self.proc.stdout, DEADLINE)
        assert line, "no line within the deadline"
        return json.loads(line)

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=DEADLINE)


def scripted_server(scenario, *extra):
    return Helper([PYTHON, os.path.join(SUPPORT, "scripted_server.py"), scenario, *extra])


def connect_proxy(*extra):
    return Helper([PYTHON, os.path.join(SUPPORT, "connect_proxy.py"), *extra])


def subcommands():
    """The subcommands `wspush --help` lists."""
    out = run_wspush("--help").stdout
    section = out.split("Subcommands:", 1)[1]
    return [line.split()[0] for line in section.splitlines() if line.strip()]


def long_flags(subcommand):
    """Every --flag `wspush SUBCOMMAND --help` lists."""
    import re
    return sorted(set(re.findall(r"(--[a-z][a-z0-9-]*)", run_wspush(subcommand, "--help").stdout)))


def tls_pair(directory, name="localhost"):
    """A self-signed certificate for `name` (and 127.0.0.1) and its key, as PEM files in
    `directory`; returns (cert, key) paths."""
    cert, key = os.path.join(directory, name + ".crt"), os.path.join(directory, name + ".key")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-subj", "/CN=" + name,
                    "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", key, "-out", cert], check=True, capture_output=True, timeout=60)
    return cert, key


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_wspush(*args, input=None, timeout=DEADLINE * 3, env=None):
    """Runs `wspush ARGS` to completion; stdout/stderr as text."""
    return subprocess.run([wspush_binary(), *args], input=input, capture_output=True,
                          text=True, timeout=timeout, env=env,
                          stdin=None if input is not None else subprocess.DEVNULL)


def tcp_forwarder(*target_ports):
    """A forwarder to the first of `target_ports` that accepts (a failover balancer)."""
    return Helper([PYTHON, os.path.join(SUPPORT, "tcp_forwarder.py"),
                   *[str(p) for p in target_ports]])


class Follower:
    """A process left running (a client following a room), its stdout read line by line
    with deadlines, its stderr in a file; killed by its PID at the end."""

    def __init__(self, argv):
        self.log = tempfile.TemporaryFile()
        self.proc = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=self.log,
                                     stdin=subprocess.DEVNULL)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait(timeout=DEADLINE)


class Stream(Follower):
    """A `wspush client` left running."""

    def __init__(self, *args):
        super().__init__([wspush_binary(), "client", *args])

    def read(self, n, timeout=DEADLINE):
        out = []
        for _ in range(n):
            line = read_line(self.proc.stdout, timeout)
            if not line:
                raise AssertionError("only %d of %d lines; stderr: %s" % (len(out), n, self.stderr()))
            out.append(json.loads(line))
        return out

    def wait(self, timeout=DEADLINE * 3):
        """Exit code and the lines not read yet (read while waiting: a full pipe would
        block the client)."""
        early = unread(self.proc.stdout)
        rest, _ = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, [json.loads(l) for l in (early + rest).decode().splitlines()]

    def stderr(self):
        return file_text(self.log)

