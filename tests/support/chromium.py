"""A real headless Chromium (Debian's `chromium`) driven over the DevTools protocol, for
the tests of the live page, the browser client and EventSource: open a URL, evaluate
JavaScript in the page, wait for a condition, take a screenshot; more tabs (`tab()`),
closed as a user closes one (`close()`). One browser per use, on
--remote-debugging-port=0 (the port it picked is read from DevToolsActivePort), with its
own profile directory; stopped by its PID."""

import base64
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request

import pytest
import websocket

from wspush_harness import file_text, stop_process

DEADLINE = 30.0


def chromium_binary():
    """The browser, or a skip outside CI (under CI a missing browser is a failure)."""
    path = shutil.which("chromium") or shutil.which("chromium-browser")
    if path is None:
        if os.environ.get("CI"):
            raise RuntimeError("chromium is not installed (scripts/setup installs it)")
        pytest.skip("chromium is not installed (scripts/setup installs it)")
    return path


class Chromium:
    """Use as a context manager; the browser is always stopped."""

    def __init__(self):
        self.profile = tempfile.TemporaryDirectory(prefix="wspush-chromium-")
        self.log = tempfile.TemporaryFile()
        self.proc = None
        self.page = None
        self.tabs = []
        self.port = None

    def __enter__(self):
        self.proc = subprocess.Popen(
            [chromium_binary(), "--headless=new", "--no-sandbox", "--disable-gpu",
             "--no-first-run", "--no-default-browser-check", "--disable-extensions",
             "--remote-debugging-port=0", "--remote-allow-origins=*",
             "--window-size=1000,700", "--user-data-dir=" + self.profile.name, "about:blank"],
            stdout=subprocess.DEVNULL, stderr=self.log, start_new_session=True)
        try:
            self.port = self._debugging_port()
            target = self._page_target(self.port)
            self.page = Tab(websocket.create_connection(target["webSocketDebuggerUrl"],
                                                        timeout=DEADLINE), target["id"], self.port)
            self.call("Runtime.enable")
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc):
        self.stop()

    def _debugging_port(self):
        path = os.path.join(self.profile.name, "DevToolsActivePort")
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            if self.proc.poll() is not None:
                raise RuntimeError("chromium exited %s: %s" % (self.proc.returncode, self._log()))
            try:
                with open(path) as f:
                    first = f.readline().strip()
                if first:
                    return int(first)
            except FileNotFoundError:
                pass
            time.sleep(0.05)
        raise RuntimeError("chromium wrote no DevToolsActivePort: " + self._log())

    @staticmethod
    def _page_target(port):
        with urllib.request.urlopen("http://127.0.0.1:%d/json/list" % port,
                                    timeout=DEADLINE) as r:
            targets = json.load(r)
        return next(t for t in targets if t["type"] == "page")

    def _log(self):
        return file_text(self.log)[-2000:]

    # The first tab's.
    def call(self, method, **params):
        return self.page.call(method, **params)

    def evaluate(self, expression):
        return self.page.evaluate(expression)

    def open(self, url):
        self.page.open(url)

    def wait_for(self, expression, what, timeout=DEADLINE):
        return self.page.wait_for(expression, what, timeout)

    def screenshot(self, path):
        return self.page.screenshot(path)

    def tab(self, url):
        """Another tab, showing `url` once loaded."""
        req = urllib.request.Request("http://127.0.0.1:%d/json/new?about:blank" % self.port,
                                     method="PUT")
        with urllib.request.urlopen(req, timeout=DEADLINE) as r:
            target = json.load(r)
        tab = Tab(websocket.create_connection(target["webSocketDebuggerUrl"], timeout=DEADLINE),
                  target["id"], self.port)
        self.tabs.append(tab)
        tab.call("Runtime.enable")
        tab.open(url)
        return tab

    def stop(self):
        for tab in [self.page, *self.tabs]:
            if tab is not None and tab.ws.connected:
                tab.ws.close()
        self.page, self.tabs = None, []
        stop_process(self.proc)
        if self.proc:
            # Its renderer and zygote helpers share its process group (start_new_session):
            # whatever outlived the browser goes with it.
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        self.profile.cleanup()


class Tab:
    """One tab's DevTools session."""

    def __init__(self, ws, target_id, port):
        self.ws = ws
        self.id = target_id
        self.port = port
        self.next_id = 0

    def call(self, method, **params):
        """One DevTools command; its result (events in between are skipped)."""
        self.next_id += 1
        self.ws.send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        end = time.monotonic() + DEADLINE
        while time.monotonic() < end:
            answer = json.loads(self.ws.recv())
            if answer.get("id") == self.next_id:
                if "error" in answer:
                    raise RuntimeError("%s: %s" % (method, answer["error"]))
                return answer["result"]
        raise TimeoutError(method)

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True,
                           awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError("%s: %s" % (expression, result["exceptionDetails"]))
        return result["result"].get("value")

    def open(self, url):
        self.call("Page.navigate", url=url)
        self.wait_for("document.readyState === 'complete' && location.href === %s"
                      % json.dumps(url), what="the page to load")

    def wait_for(self, expression, what, timeout=DEADLINE):
        """Polls until the expression is truthy; returns its value."""
        end = time.monotonic() + timeout
        value = None
        while time.monotonic() < end:
            value = self.evaluate(expression)
            if value:
                return value
            time.sleep(0.1)
        raise AssertionError("waited %.0f s for %s; last value %r; page text: %r"
                             % (timeout, what, value, self.evaluate("document.body.innerText")))

    def screenshot(self, path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        with open(path, "wb") as f:
            f.write(base64.b64decode(data))
        return path

    def close(self):
        """Closes the tab as a user does (its page gets pagehide)."""
        with urllib.request.urlopen("http://127.0.0.1:%d/json/close/%s" % (self.port, self.id),
                                    timeout=DEADLINE):
            pass
        self.ws.close()
