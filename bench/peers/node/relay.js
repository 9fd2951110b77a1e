// Peer for bench/run: a Node `ws@8` relay. Every text message a client sends goes to
// every connected client (the sender included), as is. Prints "port N" once listening.
'use strict';
const { WebSocketServer, WebSocket } = require('ws');

const wss = new WebSocketServer({ host: '127.0.0.1', port: Number(process.argv[2] || 0) });
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
