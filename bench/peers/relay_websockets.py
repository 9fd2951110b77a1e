#!/usr/bin/python3
"""Peer for bench/run: a Python `websockets` relay (Debian python3-websockets).

Every text message a client sends goes to every connected client (the sender
included) through websockets.broadcast. Prints "port N" once listening.
"""
import asyncio
import signal
import sys

import websockets

CLIENTS = set()


async def relay(ws, _path=None):
    CLIENTS.add(ws)
    try:
        async for message in ws:
            if isinstance(message, str):
                websockets.broadcast(CLIENTS, message)
    finally:
        CLIENTS.discard(ws)


async def main():
    port = int(sys.argv[1]) if len(sys.argv) > 1 else 0
    stop = asyncio.get_running_loop().create_future()
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, stop.set_result, None)
    async with websockets.serve(relay, "127.0.0.1", port, max_size=2**20) as server:
        print(f"port {server.sockets[0].getsockname()[1]}", flush=True)
        await stop


asyncio.run(main())
