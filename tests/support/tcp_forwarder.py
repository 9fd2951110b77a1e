"""Forwards TCP connections from 127.0.0.1:PORT to 127.0.0.1:TARGET: a network failure
on demand for reconnect tests. SIGUSR1 cuts every open connection (TCP reset) and
refuses new ones (reset at once) until SIGUSR2. With several targets it is a load
balancer with failover: each new connection goes to the first target that accepts.
Usage: tcp_forwarder.py TARGET_PORT [TARGET_PORT...].
Prints {"port": P}, then {"cut": N} and {"released": true}."""

import asyncio
import json
import signal
import socket
import struct
import sys

TARGETS = [int(p) for p in sys.argv[1:]]
OPEN = set()
HOLD = [False]


def reset(writer):
    sock = writer.get_extra_info("socket")
    if sock is not None:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    writer.transport.abort()


async def pipe(reader, writer):
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except (ConnectionError, asyncio.CancelledError):
        pass
    finally:
        writer.close()


async def handle(reader, writer):
    if HOLD[0]:
        return reset(writer)
    for target in TARGETS:
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target)
            break
        except OSError:
            continue
    else:
        return reset(writer)  # no target accepts
    pair = (writer, up_writer)
    OPEN.add(pair)
    try:
        await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))
    finally:
        OPEN.discard(pair)


def cut():
    HOLD[0] = True
    n = 0
    for pair in list(OPEN):
        for w in pair:
            reset(w)
        n += 1
    OPEN.clear()
    print(json.dumps({"cut": n}), flush=True)


def release():
    HOLD[0] = False
    print(json.dumps({"released": True}), flush=True)


async def main():
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR1, cut)
    asyncio.get_running_loop().add_signal_handler(signal.SIGUSR2, release)
    server = await asyncio.start_server(handle, "127.0.0.1", 0)
    print(json.dumps({"port": server.sockets[0].getsockname()[1]}), flush=True)
    await asyncio.Future()


asyncio.run(main())
