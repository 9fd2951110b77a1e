"""The browser client, /wspush.js (issue #27), in a real headless Chromium: two tabs of
one origin follow different rooms over one server-side connection (a SharedWorker), the
first tab closes and the second goes on, the server restarts and every room resumes
without a gap. Nodes share their rooms through a real redis-server, so a restarted node
still has the rooms' streams, and another node publishes while it is away."""

import json
import os
import time

import pytest

from chromium import Chromium
from redis_harness import Redis, have_redis
from wspush_harness import DEADLINE, Server, metrics, post

pytestmark = pytest.mark.skipif(not have_redis(), reason="redis-server is not installed")

FOLLOW = """(async () => {
  window.got = [];
  const { connect } = await import('/wspush.js');
  window.client = connect('ws://' + location.host + '/');
  for (const room of %s) client.subscribe(room, (m) => got.push(m));
  return client.shared;
})()"""


def node(redis, port=0):
    return Server("--room", "/news", "--room", "/alerts", "--history", "100", "--broker",
                  redis.url, port=port)


def messages(tab, room):
    return tab.evaluate("got.filter(m => m.room === %s && m.event === 'message')"
                        ".map(m => m.data)" % json.dumps(room))


def wait_messages(tab, room, expected, what):
    tab.wait_for("JSON.stringify(got.filter(m => m.room === %s && m.event === 'message')"
                 ".map(m => m.data)) === %s"
                 % (json.dumps(room), json.dumps(json.dumps(expected, separators=(",", ":")))),
                 what, timeout=DEADLINE * 2)


def connections(server):
    end = time.monotonic() + DEADLINE
    while True:
        n = metrics(server)["wspush_connections_open"]
        if n == 1 or time.monotonic() > end:
            return n
        time.sleep(0.1)


def artifact(name):
    directory = os.environ.get("WSPUSH_ARTIFACTS")
    if not directory:
        return None
    os.makedirs(directory, exist_ok=True)
    return os.path.join(directory, name)


def test_tabs_share_one_connection_and_every_room_resumes_after_a_restart():
    with Redis() as redis, node(redis) as other, Chromium() as browser:
        a = node(redis).__enter__()
        try:
            origin = a.url("/", "http")
            browser.open(origin)
            assert browser.evaluate(FOLLOW % json.dumps(["/news"])) is True  # shared
            second = browser.tab(origin)
            assert second.evaluate(FOLLOW % json.dumps(["/alerts", "/news"])) is True
            for tab in (browser, second):
                tab.wait_for("got.filter(m => m.event === 'subscribed').length >= 1",
                             "the subscriptions")
            second.wait_for("got.filter(m => m.event === 'subscribed').length === 2",
                            "both of the second tab's subscriptions")
            for n in (1, 2):
                post(a, "/news", "news %d" % n)
                post(a, "/alerts", "alert %d" % n)
            wait_messages(browser, "/news", ["news 1", "news 2"], "the first tab's room")
            wait_messages(second, "/alerts", ["alert 1", "alert 2"], "the second tab's room")
            wait_messages(second, "/news", ["news 1", "news 2"], "the second tab's other room")
            assert messages(browser, "/alerts") == []  # a tab gets its own rooms only
            # Two tabs, one connection: the SharedWorker's.
            assert connections(a) == 1
            # The tab that opened it goes; the other keeps the connection and its rooms.
            browser.page.close()
            post(a, "/alerts", "alert 3")
            wait_messages(second, "/alerts", ["alert 1", "alert 2", "alert 3"],
                          "the second tab, after the first closed")
            assert connections(a) == 1
            # The node goes; another node publishes; the node comes back on its port.
            port = a.port
            assert a.stop() == 0
            second.wait_for("client.state === 'closed'", "the client to see the node go")
            for n in (3, 4):
                post(other, "/news", "news %d" % n)
            post(other, "/alerts", "alert 4")
            a = node(redis, port=port).__enter__()
            wait_messages(second, "/news", ["news 1", "news 2", "news 3", "news 4"],
                          "/news resumed without a gap")
            wait_messages(second, "/alerts", ["alert 1", "alert 2", "alert 3", "alert 4"],
                          "/alerts resumed without a gap")
            recoveries = second.evaluate("got.filter(m => m.event === 'recovery')"
                                         ".map(m => [m.room, m.data.recovered])")
            assert sorted(recoveries) == [["/alerts", True], ["/news", True]], recoveries
            stats = second.evaluate("client.stats")
            assert stats["gaps"] == 0 and stats["duplicates"] == 0, stats
            if artifact("browser-client.png"):
                second.screenshot(artifact("browser-client.png"))
        finally:
            a.__exit__(None, None, None)


def test_without_shared_workers_a_tab_has_a_connection_of_its_own():
    with Redis() as redis, node(redis) as a, Chromium() as browser:
        browser.open(a.url("/", "http"))
        follow = FOLLOW.replace("connect('ws://' + location.host + '/')",
                                "connect('ws://' + location.host + '/', {shared: false})")
        assert browser.evaluate(follow % json.dumps(["/news"])) is False
        browser.wait_for("client.state === 'open'", "the tab's own connection")
        # Once subscribed: a message published before the node has read the room's
        # stream is history to a subscription without a seq, not news.
        browser.wait_for("got.some(m => m.event === 'subscribed')", "the subscription")
        post(a, "/news", "hello")
        wait_messages(browser, "/news", ["hello"], "the message")
        browser.evaluate("client.publish('/news', 'from the tab') || true")
        # /news is a feed room: the publish is refused, by an error that names the room.
        browser.wait_for("got.some(m => m.event === 'error' && m.status === 403)",
                         "the refusal of a publish into a feed room")
