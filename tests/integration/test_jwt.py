"""--jwt-secret (SPEC §7): HS256 tokens from the Bearer header or ?token=, exp, nbf, the
rooms claim, every other alg refused, 1008 when a token expires mid-connection, and no
token ever in the log. Tokens are made here by hand (hmac, base64) and, for RS256, signed
by openssl: nothing shared with the server's code."""

import asyncio
import base64
import hashlib
import hmac
import json
import subprocess
import time

import pytest
import websocket
import websockets

from wspush_harness import DEADLINE, Server, connect, raw_handshake, recv_close, recv_json
from wspush_harness import run_wspush

SECRET = b"correct horse battery staple"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def token(claims, alg="HS256", key=SECRET, digest=hashlib.sha256):
    head = b64(json.dumps({"alg": alg, "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    signing_input = (head + "." + body).encode()
    signature = b64(hmac.new(key, signing_input, digest).digest()) if alg != "none" else ""
    return head + "." + body + "." + signature


def rs256_token(claims, tmp_path):
    key = tmp_path / "rsa.pem"
    subprocess.run(["openssl", "genpkey", "-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048",
                    "-out", str(key)], check=True, capture_output=True, timeout=60)
    head = b64(json.dumps({"alg": "RS256", "typ": "JWT"}).encode())
    body = b64(json.dumps(claims).encode())
    signed = subprocess.run(["openssl", "dgst", "-sha256", "-sign", str(key)],
                            input=(head + "." + body).encode(), capture_output=True, check=True,
                            timeout=60).stdout
    return head + "." + body + "." + b64(signed)


def later(seconds=3600):
    return int(time.time()) + seconds


@pytest.fixture(scope="module")
def server():
    with Server("--jwt-secret", SECRET.decode(), "--room", "/news", "--room", "/chat/*:relay",
                "--room", "/private") as s:
        yield s


def status_of(server, path, headers=()):
    status, _, body = raw_handshake("127.0.0.1", server.port, path, headers)
    return status, (json.loads(body) if body else None)


def test_a_valid_token_opens_the_room_from_the_header_or_the_query(server):
    t = token({"exp": later()})
    ws = connect(server.url("/news"), header=["Authorization: Bearer " + t])
    assert recv_json(ws)["data"] == "Welcome"
    ws.close()
    ws = connect(server.url("/news?token=" + t))  # as a browser would
    assert recv_json(ws)["data"] == "Welcome"
    ws.close()
    r = run_wspush("client", "--count", "1", "--token", t, server.url("/news"))
    assert r.returncode == 0 and json.loads(r.stdout)["data"] == "Welcome"

    async def with_websockets():
        async with websockets.connect(server.url("/news"),
                                      extra_headers={"Authorization": "Bearer " + t}) as ws:
            return json.loads(await asyncio.wait_for(ws.recv(), DEADLINE))
    assert asyncio.run(with_websockets())["data"] == "Welcome"


@pytest.mark.parametrize("case,make,reason", [
    ("missing", lambda tmp: None, "missing token"),
    ("expired", lambda tmp: token({"exp": int(time.time()) - 5}), "token expired"),
    ("no exp", lambda tmp: token({"sub": "x"}), "no exp"),
    ("nbf ahead", lambda tmp: token({"exp": later(), "nbf": later(600)}), "not valid yet"),
    ("wrong signature", lambda tmp: token({"exp": later()}, key=b"guess"), "invalid token"),
    ("alg none", lambda tmp: token({"exp": later()}, alg="none"), "invalid token"),
    ("HS512", lambda tmp: token({"exp": later()}, alg="HS512", digest=hashlib.sha512),
     "only HS256"),
    ("RS256", lambda tmp: rs256_token({"exp": later()}, tmp), "invalid token"),
    ("garbage", lambda tmp: "abc.def", "invalid token"),
])
def test_bad_tokens_are_refused_with_401_and_a_reason(server, tmp_path, case, make, reason):
    t = make(tmp_path)
    path = "/news" if t is None else "/news?token=" + t
    status, body = status_of(server, path)
    assert status == 401, case
    assert body["status"] == 401 and reason in body["data"], body
    # The project's client says so and exits with the handshake code.
    args = ["client", "--count", "1", server.url("/news")]
    if t is not None:
        args += ["--token", t]
    r = run_wspush(*args)
    assert r.returncode == 5 and "401" in r.stderr


def test_the_rooms_claim_limits_joining_and_publishing(server):
    t = token({"exp": later(), "rooms": ["/news", "/chat/*"]})
    assert status_of(server, "/news?token=" + t)[0] == 101
    assert status_of(server, "/chat/lobby?token=" + t)[0] == 101
    status, body = status_of(server, "/private?token=" + t)
    assert status == 403 and "does not cover /private" in body["data"]
    # A relay member publishes into its room: the token covered it at the handshake.
    a = connect(server.url("/chat/lobby?token=" + t))
    b = connect(server.url("/chat/lobby?token=" + t))
    assert recv_json(a)["data"] == "Welcome" and recv_json(b)["data"] == "Welcome"
    a.send(json.dumps({"event": "publish", "data": "hi"}))
    for member in (a, b):
        got = recv_json(member)
        assert got["event"] == "message" and got["data"] == "hi", got
    a.close()
    b.close()


def test_the_api_keeps_its_own_access_rule(server):
    # Loopback, no key: the API does not ask for a token.
    status, _, body = raw_handshake("127.0.0.1", server.port, "/api/publish?room=/news")
    assert status == 101


def test_a_connection_is_closed_with_1008_when_its_token_expires(tmp_path):
    secret_file = tmp_path / "secret"
    secret_file.write_text(SECRET.decode() + "\n")  # the newline is not part of it
    with Server("--jwt-secret-file", str(secret_file), "--room", "/news") as s:
        t = token({"exp": int(time.time()) + 2})
        ws = connect(s.url("/news?token=" + t))
        assert recv_json(ws)["data"] == "Welcome"
        code, reason, _ = recv_close(ws)
        assert (code, reason) == (1008, "token expired")
        ws.close()
        log = s.stderr_text()
        assert t not in log and t.split(".")[2] not in log
        # Refusals are logged with their reason, the token blanked out.
        status_of(s, "/news?token=" + token({"exp": 1}))
        time.sleep(0.2)
        log = s.stderr_text()
        assert "token_expired" in log and "token=…" in log


def test_secret_settings_are_checked_at_start(tmp_path):
    r = run_wspush("serve", "--port", "0", "--jwt-secret", "a", "--jwt-secret-file", "/x")
    assert r.returncode == 2 and "excludes" in r.stderr
    r = run_wspush("serve", "--port", "0", "--jwt-secret-file", str(tmp_path / "missing"))
    assert r.returncode == 2 and "cannot read the file" in r.stderr
    (tmp_path / "empty").write_text("\n")
    r = run_wspush("serve", "--port", "0", "--jwt-secret-file", str(tmp_path / "empty"))
    assert r.returncode == 2 and "the file is empty" in r.stderr
