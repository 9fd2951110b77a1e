"""WebSocket and HTTP by hand on raw sockets, for what a library client will not do:
a handshake with chosen headers, pipelined requests, a member that never reads, a flood
of frames. Every read has a deadline."""

import socket
import time

DEADLINE = 10.0  # seconds: generous, never a measure of speed (as wspush_harness's)


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


def never_reading_member(port, path, first_frames=b""):
    """A raw-socket member that completes the handshake and then reads only when told
    (frames()); `first_frames` go out in the same packet as the upgrade request."""
    s = socket.socket()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.connect(("127.0.0.1", port))
    upgrade(s, path, first_frames=first_frames)
    return s


def upgrade(s, path, extra_headers=(), first_frames=b""):
    """Upgrades the connected socket `s` to a WebSocket on `path`; the 101's headers
    ({lower-cased name: value}). Reads the answer a byte at a time: frames follow it."""
    s.sendall(("GET %s HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
               "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n%s\r\n"
               % (path, "".join(h + "\r\n" for h in extra_headers))).encode() + first_frames)
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = s.recv(1)
        assert chunk, "the connection ended during the handshake: %r" % head
        head += chunk
    assert head.startswith(b"HTTP/1.1 101"), head
    headers = {}
    for line in head.decode().split("\r\n")[1:]:
        k, _, v = line.partition(":")
        if k:
            headers[k.strip().lower()] = v.strip()
    return headers


def client_frame(payload, opcode=0x1, rsv1=False):
    """One final client frame, masked with a zero key (the payload goes as it is)."""
    head = bytes([0x80 | (0x40 if rsv1 else 0) | opcode])
    n = len(payload)
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    return head + b"\0\0\0\0" + payload


def frames(sock, until):
    """Reads server frames (unmasked) until `until(opcode, payload)` is true."""
    return [(first & 0x0F, payload) for first, payload in frames_raw(sock, until)]


def frames_raw(sock, until):
    """As frames(), each frame as (its first byte: FIN, RSV and opcode, payload)."""
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
        first, payload, buf = buf[0], buf[at:at + length], buf[at + length:]
        out.append((first, payload))
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
