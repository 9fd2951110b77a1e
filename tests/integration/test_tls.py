"""TLS on the server's port (SPEC §7): wss:// and https:// with the project's client,
Python's websockets and openssl s_client; TLS 1.1 refused; SIGHUP reloads the
certificate while open connections keep theirs."""

import asyncio
import json
import shutil
import signal
import socket
import ssl
import subprocess
import time
import urllib.request

import pytest
import websocket
import websockets

from wspush_harness import DEADLINE, Server, recv_json, run_wspush, tls_pair


@pytest.fixture(scope="module")
def pair(tmp_path_factory):
    return tls_pair(str(tmp_path_factory.mktemp("tls")))


def client_context(cert):
    return ssl.create_default_context(cafile=cert)


def https(server, cert, method, path, body=None):
    req = urllib.request.Request("https://127.0.0.1:%d%s" % (server.port, path), method=method,
                                 data=body.encode() if body is not None else None)
    try:
        with urllib.request.urlopen(req, context=client_context(cert), timeout=DEADLINE) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def wss(server, cert, path):
    return websocket.create_connection(server.url(path, "wss"), timeout=DEADLINE,
                                       sslopt={"ca_certs": cert})


def peer_subject(port, cert):
    """The CN of the certificate the server shows a new connection."""
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as raw:
        with client_context(cert).wrap_socket(raw, server_hostname="localhost") as s:
            subject = dict(x[0] for x in s.getpeercert()["subject"])
            return subject["commonName"]


def s_client(port, *flags):
    """openssl s_client's outcome: (returncode, output)."""
    r = subprocess.run(["openssl", "s_client", "-connect", "127.0.0.1:%d" % port, *flags],
                       input="", capture_output=True, text=True, timeout=DEADLINE * 2)
    return r.returncode, r.stdout + r.stderr


def test_wss_and_https_share_the_port_for_every_client(pair):
    cert, key = pair
    with Server("--tls-cert", cert, "--tls-key", key, "--room", "/news",
                "--room", "/nowtime:ticker", "--interval", "100ms") as s:
        # The project's client, verifying the chain and the name.
        r = run_wspush("client", "--cacert", cert, "--count", "2", s.url("/nowtime", "wss"))
        assert r.returncode == 0, r.stderr
        lines = [json.loads(x) for x in r.stdout.splitlines()]
        assert lines[0]["data"] == "Welcome" and lines[1]["event"] == "nowtime"

        # A browser-like subscriber, then a publish over https://.
        member = wss(s, cert, "/news")
        assert recv_json(member)["data"] == "Welcome"
        assert https(s, cert, "GET", "/healthz")[0] == 200
        status, answer = https(s, cert, "POST", "/api/publish?room=/news", '{"n": 1}')
        assert status == 200 and answer["delivered"] == 1
        got = recv_json(member)
        assert got["data"] == {"n": 1} and got["seq"] == 1
        member.close()

        # Python's websockets (asyncio), resuming with ?since=.
        async def resume():
            async with websockets.connect(s.url("/news?since=0", "wss"),
                                          ssl=client_context(cert)) as ws:
                return [json.loads(await asyncio.wait_for(ws.recv(), DEADLINE))
                        for _ in range(3)]
        welcome, recovery, replayed = asyncio.run(resume())
        assert recovery["event"] == "recovery" and replayed["seq"] == 1

        # A plain client on the TLS port gets nowhere, and the server carries on.
        r = run_wspush("client", "--count", "1", s.url("/news"))
        assert r.returncode != 0
        assert https(s, cert, "GET", "/healthz")[0] == 200


def test_large_messages_cross_tls_whole_in_both_directions(pair):
    cert, key = pair
    with Server("--tls-cert", cert, "--tls-key", key, "--room", "/e:echo",
                "--max-message-size", "1MiB") as s:
        ws = wss(s, cert, "/e")  # an echo room: no welcome, every frame comes back
        big = "y" * 300000  # many records, more than one socket write
        for n in range(3):
            ws.send(json.dumps({"event": "big", "data": big + str(n)}))
        for n in range(3):
            assert recv_json(ws)["data"] == big + str(n)
        ws.close()


def test_only_tls_1_2_and_1_3_are_spoken(pair):
    cert, key = pair
    with Server("--tls-cert", cert, "--tls-key", key) as s:
        code, out = s_client(s.port, "-tls1_1")
        assert code != 0 and "alert protocol version" in out
        for version, name in (("-tls1_2", "TLSv1.2"), ("-tls1_3", "TLSv1.3")):
            code, out = s_client(s.port, version, "-CAfile", cert)
            assert code == 0 and "New, %s, Cipher is" % name in out, out
            assert "Verify return code: 0 (ok)" in out
        # No CBC, no RSA key exchange in TLS 1.2: intermediate's list only.
        code, out = s_client(s.port, "-tls1_2", "-cipher", "AES128-SHA")
        assert code != 0
        assert peer_subject(s.port, cert) == "localhost"


def test_sighup_reloads_the_certificate_and_open_connections_keep_receiving(tmp_path):
    old_cert, old_key = tls_pair(str(tmp_path), "localhost")
    new_cert, new_key = tls_pair(str(tmp_path), "reloaded")
    live_cert, live_key = str(tmp_path / "live.crt"), str(tmp_path / "live.key")
    shutil.copy(old_cert, live_cert)
    shutil.copy(old_key, live_key)
    with Server("--tls-cert", live_cert, "--tls-key", live_key, "--room", "/news") as s:
        old = wss(s, old_cert, "/news")
        assert recv_json(old)["data"] == "Welcome"
        shutil.copy(new_cert, live_cert)
        shutil.copy(new_key, live_key)
        s.signal(signal.SIGHUP)
        end = time.monotonic() + DEADLINE
        while "TLS certificate reloaded" not in s.stderr_text() and time.monotonic() < end:
            time.sleep(0.05)
        assert peer_subject(s.port, new_cert) == "reloaded"
        assert https(s, new_cert, "POST", "/api/publish?room=/news", '"after"')[0] == 200
        assert recv_json(old)["data"] == "after"  # the old connection, on the old certificate

        # A broken pair is refused with a reason, and the last good one stays.
        with open(live_cert, "w") as f:
            f.write("not a certificate\n")
        s.signal(signal.SIGHUP)
        end = time.monotonic() + DEADLINE
        while "TLS reload refused" not in s.stderr_text() and time.monotonic() < end:
            time.sleep(0.05)
        assert "--tls-cert " + live_cert in s.stderr_text()
        assert peer_subject(s.port, new_cert) == "reloaded"
        old.close()


def test_bad_tls_settings_are_refused_at_start(tmp_path, pair):
    cert, key = pair
    other_cert, other_key = tls_pair(str(tmp_path), "other")
    r = run_wspush("serve", "--port", "0", "--tls-cert", cert)
    assert r.returncode == 2 and "--tls-cert and --tls-key go together" in r.stderr
    r = run_wspush("serve", "--port", "0", "--tls-cert", "/no/such.pem", "--tls-key", key)
    assert r.returncode == 1 and "--tls-cert /no/such.pem" in r.stderr
    r = run_wspush("serve", "--port", "0", "--tls-cert", cert, "--tls-key", other_key)
    assert r.returncode == 1 and "does not match" in r.stderr


def test_a_member_that_stops_reading_gets_every_message_intact_later(pair):
    """20 MB behind a member that does not read: the socket fills and the stream's
    writes block between records; once it reads, every message arrives whole, in order."""
    cert, key = pair
    with Server("--tls-cert", cert, "--tls-key", key, "--room", "/news",
                "--max-message-size", "1MiB", "--send-buffer", "64MiB", "--history", "0") as s:
        member = wss(s, cert, "/news")
        assert recv_json(member)["data"] == "Welcome"
        blob = "z" * 100000
        for n in range(200):
            status, _ = https(s, cert, "POST", "/api/publish?room=/news", json.dumps(blob + str(n)))
            assert status == 200
        for n in range(200):
            got = recv_json(member)
            assert got["seq"] == n + 1 and got["data"] == blob + str(n)
        member.close()


def test_the_bench_speaks_wss(pair):
    cert, key = pair
    with Server("--tls-cert", cert, "--tls-key", key, "--room", "/bench:relay") as s:
        r = run_wspush("bench", s.url("/bench", "wss").replace("127.0.0.1", "localhost"),
                       "--cacert", cert, "--subscribers", "20", "--messages", "50", "--json",
                       "--server-pid", str(s.proc.pid))
        assert r.returncode == 0, r.stderr
        result = json.loads(r.stdout)
        assert result["deliveries"] == 1000 and result["lost"] == 0
        assert "server_cpu_us_per_1000_deliveries" in result  # measured (may be 0 ticks)
        # Not trusted: every subscriber fails its handshake, and the bench says so.
        r = run_wspush("bench", s.url("/bench", "wss"), "--subscribers", "2", "--messages", "1")
        assert r.returncode != 0 and "TLS" in r.stderr
