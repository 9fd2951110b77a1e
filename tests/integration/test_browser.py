"""The live page and EventSource in a real headless Chromium (SPEC §4), driven over the
DevTools protocol (tests/support/chromium.py): the page shows the welcome and what is
published, sees the server go and come back on the same port and resumes; / lists the
rooms; an EventSource resumes by itself with Last-Event-ID after its connection is cut.
Screenshots are kept in $WSPUSH_ARTIFACTS (set by CTest: build/test-artifacts)."""

import json
import os
import signal
import time

from chromium import Chromium
from test_jwt import SECRET, later, token
from wspush_harness import DEADLINE, Server, post, tcp_forwarder

STATE = "document.getElementById('state').textContent"
LOG = "document.getElementById('log').innerText"


def artifact(tmp_path, name):
    directory = os.environ.get("WSPUSH_ARTIFACTS") or str(tmp_path)
    os.makedirs(directory, exist_ok=True)
    return os.path.join(directory, name)


def counter(browser, name):
    return int(browser.evaluate("document.getElementById(%s).textContent" % json.dumps(name)))


def test_the_page_shows_the_room_and_resumes_after_the_server_restarts(tmp_path):
    with Chromium() as browser, Server("--room", "/news") as first, \
            tcp_forwarder(first.port) as fwd:
        # Through a forwarder, so the test can hold the page off while the new server
        # fills its stream: the page must then tell the new stream from the old one.
        browser.open("http://127.0.0.1:%d/news" % fwd.port)
        browser.wait_for(STATE + " === 'open'", "the page's WebSocket to open")
        browser.wait_for(LOG + ".includes('subscribed')", "the subscription")
        assert post(first, "/news", {"headline": "first from the test"}) == 1
        browser.wait_for(LOG + ".includes('first from the test')", "the published message")
        text = browser.evaluate(LOG)
        # Newest first, with its seq and event; data pretty-printed.
        assert text.index("first from the test") < text.index("subscribed")
        assert "#1 message" in text and '"headline": "first from the test"' in text
        # Subscribed, recovery (the first subscription asks since 0: the room's history
        # and the stream's epoch), the message.
        assert '"recovered": true' in text and '"since": 0' in text
        assert counter(browser, "received") == 3 and counter(browser, "gaps") == 0
        browser.screenshot(artifact(tmp_path, "live-page.png"))
        port = first.port
        assert first.stop() == 0
        # The server is gone: the page says so and keeps retrying.
        browser.wait_for(STATE + ".startsWith('closed')", "the page to see the server go")
        fwd.proc.send_signal(signal.SIGUSR1)
        fwd.next_line()
        with Server("--room", "/news", port=port) as again:
            # The new stream gets seqs 1 and 2 before the page is let back in.
            for n in (1, 2):
                assert post(again, "/news", {"headline": "restarted %d" % n}) == n
            fwd.proc.send_signal(signal.SIGUSR2)
            browser.wait_for(STATE + " === 'open'", "the page to reconnect",
                             timeout=DEADLINE * 2)
            # It asked for what followed seq 1 of the old stream's epoch: the server
            # cannot recover that, replays what its stream holds, and the page counts it.
            browser.wait_for(LOG + ".includes('restarted 2')", "the new stream's messages")
            text = browser.evaluate(LOG)
            assert '"recovered": false' in text and '"since": 1' in text
            assert "restarted 1" in text and "restarted 2" in text
            assert counter(browser, "gaps") == 1
            browser.screenshot(artifact(tmp_path, "live-page-resumed.png"))


def test_the_root_page_lists_the_rooms_with_links_to_their_pages(tmp_path):
    with Server("--room", "/news", "--room", "/chat:relay", "--room", "/teams/*") as s, \
            Chromium() as browser:
        browser.open(s.url("/", "http"))
        links = browser.wait_for(
            "[...document.querySelectorAll('#rooms a')].map(a => a.pathname)",
            "the rooms list")
        assert sorted(links) == ["/chat", "/news"], links
        assert not browser.evaluate("document.getElementById('controls').checkVisibility()")
        assert "/teams/* (feed family)" in browser.evaluate(
            "document.getElementById('rooms').innerText")
        browser.screenshot(artifact(tmp_path, "rooms-page.png"))
        browser.open(s.url("/chat", "http"))
        browser.wait_for(STATE + " === 'open'", "the linked room's page to connect")
        assert browser.evaluate("document.getElementById('controls').checkVisibility()")


COLLECT = """
window.got = [];
window.es = new EventSource('/news');
for (const type of ['notification', 'recovery', 'message']) {
  es.addEventListener(type, (e) => got.push({type, id: e.lastEventId,
                                             env: JSON.parse(e.data)}));
}
es.onerror = () => got.push({type: 'error', state: es.readyState});
true
"""


def test_an_event_source_resumes_by_itself_with_last_event_id():
    with Server("--room", "/news") as s, tcp_forwarder(s.port) as fwd, \
            Chromium() as browser:
        # A page of the server's origin (through the forwarder), then EventSource in it.
        browser.open("http://127.0.0.1:%d/" % fwd.port)
        browser.evaluate(COLLECT)
        browser.wait_for("got.some(g => g.type === 'notification')", "the welcome")
        for i in (1, 2):
            post(s, "/news", {"n": i})
        browser.wait_for("got.filter(g => g.type === 'message').length === 2", "two events")
        # Cut the connection (and refuse new ones) while two more are published.
        fwd.proc.send_signal(signal.SIGUSR1)
        assert fwd.next_line()["cut"] >= 1
        browser.wait_for("got.some(g => g.type === 'error')", "EventSource to see the cut")
        for i in (3, 4):
            post(s, "/news", {"n": i})
        fwd.proc.send_signal(signal.SIGUSR2)
        browser.wait_for("got.filter(g => g.type === 'message').length === 4",
                         "the missed events after the reconnection", timeout=DEADLINE * 2)
        got = browser.evaluate("got.filter(g => g.type !== 'error')")
        kinds = [g["type"] for g in got]
        # The second connection's welcome, then the recovery event: all was replayed.
        assert kinds == ["notification", "message", "message",
                         "notification", "recovery", "message", "message"], got
        recovery = got[4]["env"]["data"]
        assert recovery["recovered"] is True and recovery["since"] == 2
        assert [g["id"] for g in got if g["type"] == "message"] == ["1", "2", "3", "4"]
        assert [g["env"]["data"]["n"] for g in got if g["type"] == "message"] == [1, 2, 3, 4]


def test_with_jwt_the_page_passes_its_token_on_and_without_one_is_refused(tmp_path):
    secret = tmp_path / "secret"
    secret.write_bytes(SECRET)
    with Server("--room", "/news", "--jwt-secret-file", str(secret)) as s, \
            Chromium() as browser:
        browser.open(s.url("/news", "http") + "?token=" + token({"exp": later(),
                                                                  "rooms": ["/news"]}))
        browser.wait_for(STATE + " === 'open'", "the page to connect with its token")
        browser.wait_for(LOG + ".includes('subscribed')", "the subscription")
        browser.open(s.url("/news", "http"))
        # The browser's WebSocket sees no HTTP status: a refused handshake is 1006.
        browser.wait_for(STATE + ".startsWith('closed 1006')", "the page to be refused")
        assert "subscribed" not in browser.evaluate(LOG)
        def refused():  # the page connects to / (the browser client) and subscribes there
            return any(r.get("target") == "/" and r.get("status") == 401 and
                       r.get("reason") == "token_missing"
                       for r in map(json.loads, s.stderr_text().splitlines()))
        end = time.monotonic() + DEADLINE
        while not refused() and time.monotonic() < end:
            time.sleep(0.1)
        assert refused(), s.stderr_text()
