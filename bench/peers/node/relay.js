// Peer for bench/run: a Node `ws@8` relay. Every text message a client sends goes to
// every connected client (the sender included), as is. Prints "port N" once listening.
// `--deflate` (bench/compression.py): permessage-deflate as ws users turn it on, with
// ws's defaults (a deflate context per connection) and a 128-byte threshold like wspush's.
'use strict';
const { WebSocketServer, WebSocket } = require('ws');

const args = process.argv.slice(2);
const deflate = args.includes('--deflate');
const port = Number(args.find((a) => !a.startsWith('--')) || 0);
const wss = new WebSocketServer({
  host: '127.0.0.1',
  port,
  perMessageDeflate: deflate ? { threshold: 128 } : false,
});
wss.on('listening', () => console.log(`port ${wss.address().port}`));
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => {
    if (isBinary) return;
    for (const client of wss.clients) {
      if (client.readyState === WebSocket.OPEN) client.send(data, { binary: false });
    }
  });
});
process.on('SIGTERM', () => process.exit(0));
