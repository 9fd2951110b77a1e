"""A WebSocket server that behaves in one scripted way, for testing clients against
legal and broken server behaviour. Usage: scripted_server.py SCENARIO [--tls CERT KEY].
Prints {"port": P} on stdout once listening; runs until killed."""

import asyncio
import json
import socket
import ssl
import sys

import websockets  # Debian's python3-websockets (10.x)

WELCOME = json.dumps({"status": 200, "event": "notification", "data": "Welcome"})


def msg(seq, data="x"):
    return json.dumps({"status": 200, "event": "message", "data": data, "seq": seq})


async def gap(ws, path):
    for m in (WELCOME, msg(1), msg(2), msg(4), msg(5)):
        await ws.send(m)
    await ws.close(1000)


async def duplicate(ws, path):
    for m in (WELCOME, msg(1), msg(2), msg(2), msg(3)):
        await ws.send(m)
    await ws.close(1000)


async def legal(ws, path):
    """Everything a server may legally do."""
    await ws.send(WELCOME)
    await ws.send(iter(['{"status":200,', '"event":"frag",', '"data":"ment"}']))  # fragmented
    await ws.ping(b"are you there")
    await ws.send(b"\x00\x01\xfe\xff")  # binary
    await ws.send('{\n  "pretty": true\n}')  # JSON over several lines
    await ws.send("plain text")
    await ws.send(json.dumps({"big": "y" * (1024 * 1024)}))
    await ws.close(1001, "going away now")


async def close_custom(ws, path):
    await ws.send(WELCOME)
    await ws.close(4000, "custom reason")


async def drop(ws, path):
    await ws.send(WELCOME)
    await ws.send(msg(1))
    ws.transport.abort()  # TCP reset, no close frame


async def headers(ws, path):
    await ws.send(json.dumps({"path": path, "headers": dict(ws.request_headers.raw_items())}))
    await ws.wait_closed()


async def expect_echo(ws, path):
    await ws.send("text one")
    await ws.send(b"\x00binary\xff")
    got = [await ws.recv(), await ws.recv()]
    ok = got == ["text one", b"\x00binary\xff"]
    await ws.send(json.dumps({"echoed": ok}))
    await ws.close(1000)


async def big(ws, path):
    await ws.send("z" * (2 * 1024 * 1024))
    await ws.wait_closed()


async def welcome(ws, path):
    await ws.send(WELCOME)
    await ws.wait_closed()


async def then_violation(ws, path):
    """A valid message and a protocol violation (reserved bits) in one write."""
    frame = WELCOME.encode()
    ws.transport.write(bytes([0x81, len(frame)]) + frame + b"\xc1\x01x")
    await asyncio.sleep(5)


async def bad_first_fragment(ws, path):
    """The first fragment of a text message is invalid UTF-8; the rest never comes."""
    await ws.send(WELCOME)
    ws.transport.write(b"\x01\x02\xc0\xaf")
    await asyncio.sleep(5)


def in_fragments(text, pieces):
    """A text message as `pieces` unmasked frames: the text, then empty continuations."""
    first = text.encode()
    frames = [bytes([0x01, len(first)]) + first]
    frames += [b"\x00\x00"] * (pieces - 2) + [b"\x80\x00"]
    return b"".join(frames)


async def many_fragments(ws, path):
    """A message in 1024 fragments (the cap), then one in 5000, in the same write."""
    at_cap = json.dumps({"status": 200, "event": "message", "data": "at the cap"})
    ws.transport.write(in_fragments(at_cap, 1024) + in_fragments(WELCOME, 5000))
    await ws.wait_closed()


SCENARIOS = {f.__name__.replace("_", "-"): f for f in
             (gap, duplicate, legal, close_custom, drop, headers, expect_echo, big, welcome,
              then_violation, bad_first_fragment, many_fragments)}


async def silent():
    """Accepts TCP and never answers the handshake."""
    held = []

    async def hold(reader, writer):
        held.append(writer)
        await asyncio.sleep(3600)

    server = await asyncio.start_server(hold, "127.0.0.1", 0)
    print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)
    await asyncio.Future()


async def main():
    scenario = sys.argv[1]
    if scenario == "silent":
        return await silent()
    context = None
    if "--tls" in sys.argv:
        i = sys.argv.index("--tls")
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(sys.argv[i + 1], sys.argv[i + 2])
    async with websockets.serve(SCENARIOS[scenario], "127.0.0.1", 0, ssl=context,
                                max_size=None) as server:
        port = [s.getsockname()[1] for s in server.sockets if s.family == socket.AF_INET][0]
        print(json.dumps({"port": port}), flush=True)
        await asyncio.Future()


asyncio.run(main())
