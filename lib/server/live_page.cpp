// The live page (SPEC §4): one self-contained HTML document compiled into the binary,
// no CDN and no other file. At a room's path it follows the room over ws:// or wss://
// on the same host (passing the page's ?token= on), newest message first. Its first
// connection asks ?since=0: the room's retained messages, and the recovery event that
// names the stream's epoch; it reconnects with backoff, resuming with ?since= the last
// seq and that epoch (a stream the server lost counts one gap and starts afresh). At /
// it lists the rooms.
#include "server/live_page.hpp"

namespace wspush {

std::string_view live_page_html() {
  return R"html(<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>wspush</title>
<style>
body{font:14px/1.4 system-ui,sans-serif;margin:0;background:#f6f7f9;color:#1d232b}
header{display:flex;gap:12px;align-items:center;flex-wrap:wrap;padding:10px 16px;
background:#1d232b;color:#fff}
header h1{font-size:16px;margin:0 12px 0 0;font-family:monospace}
#controls{display:flex;gap:12px;align-items:center}
#controls[hidden]{display:none}
#state{padding:2px 8px;border-radius:10px;background:#777}
#state.open{background:#2e7d32}#state.closed{background:#c62828}
button{font:inherit;padding:3px 10px}
main{padding:12px 16px}
.msg{background:#fff;border:1px solid #dde1e6;border-radius:6px;margin:0 0 8px;padding:6px 10px}
.meta{color:#57606a;font-size:12px;font-family:monospace}
.meta b{color:#1d232b}
pre{margin:4px 0 0;white-space:pre-wrap;word-break:break-word}
li{margin:4px 0;font-family:monospace}
</style></head>
<body>
<header><h1 id="room"></h1><span id="state">connecting</span>
<span id="controls"><span>received <b id="received">0</b></span>
<span>gaps <b id="gaps">0</b></span>
<button id="pause">pause</button> <button id="clear">clear</button></span></header>
<main><ul id="rooms" hidden></ul><div id="log"></div></main>
<script>
"use strict";
const $ = (id) => document.getElementById(id);
const path = location.pathname;
const params = new URLSearchParams(location.search);
const token = params.get("token");
$("room").textContent = path;

function roomUrl(since) {
  const q = new URLSearchParams();
  if (token) q.set("token", token);
  q.set("since", since);
  if (epoch !== null) q.set("epoch", epoch);
  const s = q.toString();
  return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + path +
         (s ? "?" + s : "");
}

function listRooms() {
  $("state").textContent = "rooms";
  $("controls").hidden = true;
  const headers = token ? {Authorization: "Bearer " + token} : {};
  fetch("/api/rooms", {headers}).then((r) => r.json()).then((answer) => {
    const list = $("rooms");
    list.hidden = false;
    for (const room of answer.rooms || []) {
      const li = document.createElement("li");
      if (room.family) {
        li.textContent = room.path + " (" + room.kind + " family)";
      } else {
        const a = document.createElement("a");
        a.href = room.path + (token ? "?token=" + encodeURIComponent(token) : "");
        a.textContent = room.path;
        li.append(a, " " + room.kind + ", " + room.members + " member(s), last seq " +
                  room.last_seq);
      }
      list.append(li);
    }
    if (!answer.rooms) $("log").textContent = JSON.stringify(answer);
  }).catch((e) => { $("log").textContent = "cannot list rooms: " + e; });
}

let lastSeq = null, epoch = null, opened = 0, received = 0, gaps = 0, paused = false, attempt = 0, held = [];
$("pause").onclick = () => {
  paused = !paused;
  $("pause").textContent = paused ? "resume" : "pause";
  if (!paused) { held.forEach(show); held = []; }
};
$("clear").onclick = () => { $("log").textContent = ""; };

function show(m) {
  const div = document.createElement("div");
  div.className = "msg";
  const meta = document.createElement("div");
  meta.className = "meta";
  const seq = m.env.seq !== undefined ? "#" + m.env.seq + " " : "";
  const b = document.createElement("b");
  b.textContent = m.env.event || "(text)";
  meta.append(seq, b, " " + m.time);
  const pre = document.createElement("pre");
  pre.textContent = m.env.data !== undefined ? JSON.stringify(m.env.data, null, 2) : m.raw;
  div.append(meta, pre);
  $("log").prepend(div);
  while ($("log").childElementCount > 500) $("log").lastElementChild.remove();
}

function setState(text, cls) {
  $("state").textContent = text;
  $("state").className = cls || "";
}

function connect() {
  setState(attempt ? "reconnecting" : "connecting");
  const ws = new WebSocket(roomUrl(lastSeq === null ? 0 : lastSeq));
  ws.onopen = () => { attempt = 0; opened += 1; setState("open", "open"); };
  ws.onmessage = (e) => {
    let env = {};
    try { env = JSON.parse(e.data); } catch (_) { env = {}; }
    if (env.event === "recovery" && env.data && typeof env.data === "object") {
      // The answer to ?since=: the stream's epoch, and whether all we missed follows.
      if (env.data.epoch !== undefined) epoch = env.data.epoch;
      // Not recovered on the first connection: older than the room keeps, not missed.
      if (env.data.recovered === false) { if (opened > 1) gaps += 1; lastSeq = null; }
    }
    if (typeof env.seq === "number") {
      if (lastSeq !== null && env.seq > lastSeq + 1) gaps += 1;
      if (lastSeq === null || env.seq > lastSeq) lastSeq = env.seq;
    }
    received += 1;
    $("received").textContent = received;
    $("gaps").textContent = gaps;
    const m = {env, raw: e.data, time: new Date().toISOString()};
    if (paused) held.push(m); else show(m);
  };
  ws.onclose = (e) => {
    const delay = Math.min(10000, 500 * 2 ** attempt) * (0.5 + Math.random() / 2);
    attempt += 1;
    setState("closed " + e.code + (e.reason ? " " + e.reason : "") + ", retrying in " +
             Math.round(delay) + " ms", "closed");
    setTimeout(connect, delay);
  };
}

if (path === "/") listRooms(); else connect();
</script></body></html>
)html";
}

}  // namespace wspush
