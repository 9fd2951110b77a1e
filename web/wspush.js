// wspush.js: the browser client of wspush (SPEC §3.1), served by the server at /wspush.js.
// An ES module with no dependency and no build step:
//
//   import { connect } from "/wspush.js";
//   const client = connect("ws://localhost:5000/", { token: "…" });
//   const stop = client.subscribe("/news", (m) => console.log(m.seq, m.data));
//   client.subscribe("/chat/*", (m) => console.log(m.room, m.data));  // a whole family
//   client.publish("/chat/lobby", { text: "hi" });                     // a relay room
//   stop();                                                            // unsubscribe
//
// One connection carries every room. Each room resumes by its seq and epoch after a
// reconnection (jittered backoff; `getToken` is asked for a fresh token first), so a
// restart of the server or a cut as a slow consumer loses nothing the room retains. Tabs
// of one origin share one connection through a SharedWorker where the browser has one
// (this same file runs as the worker); elsewhere each tab has its own. A tab that closes
// takes its subscriptions with it; the others keep the connection.
//
// A subscriber is called with each message of the room as the server sent it (the JSON
// envelope, with `room`): `subscribed`, `recovery`, the room's messages, and errors that
// name the room.

const BACKOFF_BASE_MS = 500;
const BACKOFF_CAP_MS = 10000;
const TOKEN_WAIT_MS = 2000;

const isPattern = (room) => room.endsWith("/*");
const covers = (key, room) =>
  key === room || (isPattern(key) && room.startsWith(key.slice(0, -1)) && room !== key.slice(0, -1));

// One WebSocket and the rooms it follows. `emit(message)` gets every envelope;
// `onState(state, detail)` its state; `token()` the token to connect with (a promise).
class Connection {
  constructor(url, { emit, onState, token }) {
    this.url = url;
    this.emit = emit;
    this.onState = onState;
    this.token = token;
    this.wanted = new Map(); // room or pattern -> { refs, since }
    this.positions = new Map(); // room -> { seq, epoch }
    this.subscribed = new Map(); // room or pattern -> its last `subscribed` envelope
    this.stats = { received: 0, gaps: 0, duplicates: 0, reconnects: 0 };
    this.everOpened = false;
    this.attempt = 0;
    this.socket = null;
    this.closed = false;
    this.timer = null;
  }

  // Returns the `subscribed` envelope the room already had, for a later subscriber of a
  // room followed already (the server sends it once per connection).
  follow(room, since) {
    const want = this.wanted.get(room);
    if (want) {
      want.refs += 1;
      return this.subscribed.get(room);
    }
    this.wanted.set(room, { refs: 1, since });
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.send(this.subscribeMessage(room));
    } else if (!this.socket && !this.timer) {
      this.open();
    }
    return undefined;
  }

  unfollow(room) {
    const want = this.wanted.get(room);
    if (!want || --want.refs > 0) return;
    this.wanted.delete(room);
    this.subscribed.delete(room);
    for (const seen of [...this.positions.keys()]) {
      if (covers(room, seen) && ![...this.wanted.keys()].some((k) => covers(k, seen))) {
        this.positions.delete(seen);
      }
    }
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.send({ event: "unsubscribe", room });
    }
  }

  publish(room, data) {
    this.send({ event: "publish", room, data });
  }

  close() {
    this.closed = true;
    clearTimeout(this.timer);
    if (this.socket) this.socket.close(1000, "done");
  }

  send(message) {
    if (this.socket && this.socket.readyState === WebSocket.OPEN) {
      this.socket.send(JSON.stringify(message));
    }
  }

  // A room resumes from its position; a pattern or a room never heard from starts live
  // (or from the `since` its first subscriber asked).
  subscribeMessage(room) {
    const message = { event: "subscribe", room };
    const at = this.positions.get(room);
    if (at && at.seq !== null) {
      message.since = at.seq;
      if (at.epoch !== null) message.epoch = at.epoch;
    } else if (!isPattern(room) && this.wanted.get(room)?.since !== undefined) {
      message.since = this.wanted.get(room).since;
    }
    return message;
  }

  async open() {
    this.timer = null;
    if (this.closed) return;
    this.onState("connecting");
    let token = null;
    try {
      token = await this.token();
    } catch (_) {
      token = null;
    }
    const url = token ? this.url + (this.url.includes("?") ? "&" : "?") + "token=" +
      encodeURIComponent(token) : this.url;
    const socket = new WebSocket(url);
    this.socket = socket;
    socket.onopen = () => {
      if (this.everOpened) this.stats.reconnects += 1;
      this.everOpened = true;
      this.attempt = 0;
      this.onState("open");
      // Every room heard from, from where it was (those a pattern brought too), then
      // what is wanted and not resumed that way.
      const sent = new Set();
      for (const [room, at] of this.positions) {
        if (at.seq === null || ![...this.wanted.keys()].some((k) => covers(k, room))) continue;
        this.send(this.subscribeMessage(room));
        sent.add(room);
      }
      for (const room of this.wanted.keys()) {
        if (!sent.has(room)) this.send(this.subscribeMessage(room));
      }
    };
    socket.onmessage = (e) => this.receive(e.data);
    socket.onclose = (e) => {
      if (this.socket !== socket) return;
      this.socket = null;
      if (this.closed || this.wanted.size === 0) return this.onState("closed", e.code);
      const step = Math.min(BACKOFF_CAP_MS, BACKOFF_BASE_MS * 2 ** this.attempt);
      const delay = step * (0.5 + Math.random() / 2);
      this.attempt += 1;
      this.onState("closed", e.code + (e.reason ? " " + e.reason : "") +
        ", retrying in " + Math.round(delay) + " ms");
      this.timer = setTimeout(() => this.open(), delay);
    };
  }

  receive(text) {
    let message;
    try {
      message = JSON.parse(text);
    } catch (_) {
      return;
    }
    const room = message.room;
    if (message.event === "subscribed" && typeof room === "string") this.subscribed.set(room, message);
    if (typeof room === "string" && !isPattern(room)) {
      const at = this.positions.get(room) || { seq: null, epoch: null };
      this.positions.set(room, at);
      const data = message.data && typeof message.data === "object" ? message.data : {};
      if (message.event === "subscribed") {
        if (data.epoch !== undefined) at.epoch = data.epoch;
        if (at.seq === null && data.last_seq !== undefined &&
            this.wanted.get(room)?.since === undefined) {
          at.seq = data.last_seq; // live from here
        }
      } else if (message.event === "recovery") {
        if (data.epoch !== undefined) at.epoch = data.epoch;
        if (data.recovered === false) {
          if (at.seq !== null) this.stats.gaps += 1;
          at.seq = null; // what the stream holds now is new to us
        }
      } else if (typeof message.seq === "number") {
        if (at.seq !== null && message.seq <= at.seq) {
          this.stats.duplicates += 1;
          return; // had it
        }
        if (at.seq !== null && message.seq > at.seq + 1) this.stats.gaps += 1;
        at.seq = message.seq;
      }
    }
    this.stats.received += 1;
    this.emit(message);
  }
}

// Who gets a message: the subscriptions whose room or pattern covers its room.
class Subscriptions {
  constructor() {
    this.next = 1;
    this.byId = new Map(); // id -> { room, deliver }
  }
  add(room, deliver, since) {
    const id = this.next++;
    this.byId.set(id, { room, deliver, since });
    return id;
  }
  remove(id) {
    const s = this.byId.get(id);
    this.byId.delete(id);
    return s;
  }
  deliver(message) {
    if (typeof message.room !== "string") return;
    for (const s of this.byId.values()) {
      if (covers(s.room, message.room)) s.deliver(message);
    }
  }
}

// The client a page holds: its own connection, or a port to the shared one.
class Client {
  constructor(url, options) {
    this.url = url;
    this.options = options;
    this.subscriptions = new Subscriptions();
    this.state = "connecting";
    this.onstate = null;
    this.shared = false;
    const setState = (state, detail) => {
      this.state = state;
      if (this.onstate) this.onstate(state, detail);
    };
    const token = async () =>
      this.options.getToken ? await this.options.getToken() : this.options.token || null;
    this.setState = setState;
    this.token = token;
    if (options.shared !== false && typeof SharedWorker === "function") {
      try {
        const worker = new SharedWorker(import.meta.url, { type: "module", name: "wspush " + url });
        worker.onerror = () => this.ownConnection(); // it would not start: go alone
        this.port = worker.port;
        this.shared = true;
        this.port.onmessage = async (e) => {
          const m = e.data;
          if (m.op === "message") {
            for (const id of m.ids) this.subscriptions.byId.get(id)?.deliver(m.message);
          } else if (m.op === "state") {
            this.stats = m.stats;
            setState(m.state, m.detail);
          } else if (m.op === "token?") {
            this.port.postMessage({ op: "token", token: await token() });
          }
        };
        this.port.start();
        this.port.postMessage({ op: "hello", url, token: options.token || null });
        addEventListener("pagehide", () => this.port.postMessage({ op: "bye" }));
        return;
      } catch (_) {
        // No module SharedWorker here: a connection of our own.
      }
    }
    this.ownConnection();
  }

  ownConnection() {
    if (this.connection) return;
    this.shared = false;
    this.connection = new Connection(this.url, {
      emit: (message) => this.subscriptions.deliver(message),
      onState: this.setState,
      token: this.token,
    });
    this.stats = this.connection.stats;
    for (const s of this.subscriptions.byId.values()) this.connection.follow(s.room, s.since);
  }

  // Calls `onMessage` with each message of `room` (a path, or a family "/chat/*") until
  // the returned function is called. `since`: start from this seq (the room's history).
  subscribe(room, onMessage, { since } = {}) {
    const id = this.subscriptions.add(room, onMessage, since);
    if (this.shared) {
      this.port.postMessage({ op: "subscribe", id, room, since });
    } else {
      const greeting = this.connection.follow(room, since);
      if (greeting) queueMicrotask(() => this.subscriptions.byId.get(id)?.deliver(greeting));
    }
    return () => {
      if (!this.subscriptions.remove(id)) return;
      if (this.shared) this.port.postMessage({ op: "unsubscribe", id });
      else this.connection.unfollow(room);
    };
  }

  publish(room, data) {
    if (this.shared) this.port.postMessage({ op: "publish", room, data });
    else this.connection.publish(room, data);
  }

  close() {
    if (this.shared) this.port.postMessage({ op: "bye" });
    else this.connection.close();
  }
}

export function connect(url, options = {}) {
  return new Client(url, options);
}

// As the SharedWorker: one Connection per URL for every tab that asks; each tab's
// subscriptions by the ids it gave them.
function serveTabs() {
  const connections = new Map(); // url -> { connection, tabs: Set<port> }
  const ofPort = new Map(); // port -> { url, token, subs: Map<id, room> }

  const askToken = (entry) => new Promise((resolve) => {
    const tabs = [...entry.tabs];
    if (tabs.length === 0) return resolve(entry.token);
    const port = tabs[tabs.length - 1];
    const timer = setTimeout(() => resolve(entry.token), TOKEN_WAIT_MS);
    entry.waiting = (token) => {
      clearTimeout(timer);
      if (token) entry.token = token;
      resolve(entry.token);
    };
    port.postMessage({ op: "token?" });
  });

  const stateOf = (entry) => ({ op: "state", state: entry.state, detail: entry.detail,
    stats: entry.connection.stats });

  const leave = (port) => {
    const tab = ofPort.get(port);
    if (!tab) return;
    ofPort.delete(port);
    const entry = connections.get(tab.url);
    for (const room of tab.subs.values()) entry.connection.unfollow(room);
    entry.tabs.delete(port);
    if (entry.tabs.size === 0) {
      entry.connection.close();
      connections.delete(tab.url);
    }
  };

  self.onconnect = (event) => {
    const port = event.ports[0];
    port.onmessage = (e) => {
      const m = e.data;
      if (m.op === "hello") {
        let entry = connections.get(m.url);
        if (!entry) {
          entry = { tabs: new Set(), token: m.token, state: "connecting" };
          entry.connection = new Connection(m.url, {
            emit: (message) => {
              if (typeof message.room !== "string") return;
              for (const [p, tab] of ofPort) {
                if (tab.url !== m.url) continue;
                const ids = [...tab.subs].filter(([, room]) => covers(room, message.room))
                  .map(([id]) => id);
                if (ids.length) p.postMessage({ op: "message", ids, message });
              }
            },
            onState: (state, detail) => {
              entry.state = state;
              entry.detail = detail;
              for (const p of entry.tabs) p.postMessage(stateOf(entry));
            },
            token: () => askToken(entry),
          });
          connections.set(m.url, entry);
        }
        entry.tabs.add(port);
        ofPort.set(port, { url: m.url, subs: new Map() });
        port.postMessage(stateOf(entry));
        return;
      }
      const tab = ofPort.get(port);
      if (!tab) return;
      const entry = connections.get(tab.url);
      if (m.op === "subscribe") {
        tab.subs.set(m.id, m.room);
        const greeting = entry.connection.follow(m.room, m.since);
        if (greeting) port.postMessage({ op: "message", ids: [m.id], message: greeting });
      } else if (m.op === "unsubscribe") {
        const room = tab.subs.get(m.id);
        tab.subs.delete(m.id);
        if (room !== undefined) entry.connection.unfollow(room);
      } else if (m.op === "publish") {
        entry.connection.publish(m.room, m.data);
      } else if (m.op === "token") {
        if (entry.waiting) entry.waiting(m.token);
      } else if (m.op === "bye") {
        leave(port);
      }
    };
    port.addEventListener("close", () => leave(port));
    port.start();
  };
}

if (typeof SharedWorkerGlobalScope === "function" && self instanceof SharedWorkerGlobalScope) {
  serveTabs();
}
