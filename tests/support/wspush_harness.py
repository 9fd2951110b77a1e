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

import websocket  # Debian's python3-websocket (websocket-client)
from prometheus_client.parser import text_string_to_metric_families

DEADLINE = 10.0  # seconds: generous, never a measure of speed


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


def read_line(stream, timeout):
    """One line from a pipe, or b"" when the deadline passes first."""
    fd = stream.fileno()
    buf = b""
    end = time.monotonic() + timeout
    while not buf.endswith(b"\n"):
        left = end - time.monotonic()
        if left <= 0:
            return b""
        ready, _, _ = select.select([fd], [], [], left)
        if not ready:
            return b""
        chunk = os.read(fd, 1)
        if not chunk:
            return buf
        buf += chunk
    return buf


def connect(url, **kw):
    return websocket.create_connection(url, timeout=DEADLINE, **kw)


def recv_json(ws):
    return json.loads(ws.recv())


def recv_close(ws):
    """Reads frames until the server's close frame; returns (code, reason, data_frames)."""
    frames = []
    end = time.monotonic() + DEADLINE
    while time.monotonic() < end:
        opcode, data = ws.recv_data(control_frame=True)
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            code = int.from_bytes(data[:2], "big") if len(data) >= 2 else None
            return code, data[2:].decode(), frames
        if opcode in (websocket.ABNF.OPCODE_TEXT, websocket.ABNF.OPCODE_BINARY):
            frames.append(data)
    raise AssertionError("no close frame within the deadline")


def raw_handshake(host, port, path, extra_headers=()):
    """Sends a WebSocket upgrade request by hand; returns (status, headers, body)."""
    lines = [
        "GET %s HTTP/1.1" % path,
        "Host: %s:%d" % (host, port),
        "Upgrade: websocket",
        "Connection: Upgrade",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        "Sec-WebSocket-Version: 13",
        *extra_headers,
    ]
    return raw_http(host, port, "\r\n".join(lines) + "\r\n\r\n")


def raw_http(host, port, request):
    """Sends `request` on a fresh connection; its answer: (status, headers, body)."""
    with socket.create_connection((host, port), timeout=DEADLINE) as s:
        s.sendall(request.encode())
        (answer,) = read_responses(s, 1)
        return answer


def read_responses(sock, count):
    """Up to `count` HTTP responses read off `sock`, fewer if it closes first:
    [(status, {lower-cased header: value}, body)]. A 101 ends the list: WebSocket frames
    follow it, not a body."""
    data, out = b"", []
    while len(out) < count:
        while b"\r\n\r\n" not in data:
            chunk = sock.recv(65536)
            if not chunk:
                return out
            data += chunk
        head, _, data = data.partition(b"\r\n\r\n")
        status_line, *header_lines = head.decode().split("\r\n")
        headers = {}
        for h in header_lines:
            k, _, v = h.partition(":")
            headers[k.strip().lower()] = v.strip()
        status = int(status_line.split()[1])
        if status == 101:
            out.append((status, headers, ""))
            return out
        length = int(headers.get("content-length", "0"))
        while len(data) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            data += chunk
        out.append((status, headers, data[:length].decode()))
        data = data[length:]
    return out


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
        rest, _ = self.proc.communicate(timeout=timeout)
        return self.proc.returncode, [json.loads(l) for l in rest.decode().splitlines()]

    def stderr(self):
        return file_text(self.log)


def never_reading_member(port, path, first_frames=b""):
    """A raw-socket member that completes the handshake and then reads only when told
    (frames()); `first_frames` go out in the same packet as the upgrade request."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n"
               % path).encode() + first_frames)
    head = b""
    while b"\r\n\r\n" not in head:
        head += s.recv(1)
    assert head.startswith(b"HTTP/1.1 101")
    return s


def frames(sock, until):
    """Reads server frames (unmasked) until `until(opcode, payload)` is true."""
    sock.settimeout(DEADLINE)
    buf = b""
    out = []

    def need(n):
        nonlocal buf
        while len(buf) < n:
            chunk = sock.recv(1 << 20)
            if not chunk:
                raise AssertionError("connection ended after %d frames" % len(out))
            buf += chunk

    end = time.monotonic() + DEADLINE * 3
    while time.monotonic() < end:
        need(2)
        opcode, length, at = buf[0] & 0x0F, buf[1] & 0x7F, 2
        if length == 126:
            need(4)
            length, at = int.from_bytes(buf[2:4], "big"), 4
        elif length == 127:
            need(10)
            length, at = int.from_bytes(buf[2:10], "big"), 10
        need(at + length)
        payload, buf = buf[at:at + length], buf[at + length:]
        out.append((opcode, payload))
        if until(opcode, payload):
            return out
    raise AssertionError("deadline passed")


def flood_until_closed(sock, frame, count=200000):
    """Sends `frame` `count` times without reading (or until the server gives up on the
    connection), then reads up to the server's close frame and returns its code.
    200 000 small frames are far past what loopback's socket buffers (several MB) and
    a 64 KiB send queue can hold."""
    sock.settimeout(DEADLINE)
    try:
        for _ in range(count):
            sock.sendall(frame)
    except (BrokenPipeError, ConnectionResetError, socket.timeout):
        pass
    got = frames(sock, lambda op, _: op == 0x8)
    return int.from_bytes(got[-1][1][:2], "big")
