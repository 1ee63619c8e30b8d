"""A minimal Chrome DevTools Protocol client over a raw WebSocket, for the one measurement
Playwright cannot make: Playwright enables the Network domain, so every WebSocket frame the
page receives (10,000 a second in the streaming test) is also sent to the test process,
which then, not the page, is the bottleneck. This client enables nothing it does not use."""

import base64
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

CHROMIUM = os.environ.get("TEND_UI_CHROMIUM", "/usr/bin/chromium")


class Cdp:
    """One headless Chromium with one page, driven by `call(method, **params)`."""

    def __init__(self, timeout=20.0):
        self.profile = tempfile.mkdtemp(prefix="tend-cdp-")
        self.browser = subprocess.Popen(
            [CHROMIUM, "--headless", "--no-sandbox", "--remote-debugging-port=0",
             f"--user-data-dir={self.profile}", "--window-size=1280,800", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
            start_new_session=True,
        )
        self.timeout = timeout
        port = None
        deadline = time.monotonic() + timeout
        while port is None and time.monotonic() < deadline:
            line = self.browser.stderr.readline().decode(errors="replace")
            found = re.search(r"DevTools listening on ws://127\.0\.0\.1:(\d+)/", line)
            if found:
                port = int(found.group(1))
            elif not line and self.browser.poll() is not None:
                break
        if port is None:
            self.close()
            raise RuntimeError("chromium did not print its DevTools address")
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=timeout) as answer:
            targets = json.load(answer)
        page = next(t for t in targets if t["type"] == "page")
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        path = page["webSocketDebuggerUrl"].split(f":{port}", 1)[1]
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
            f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        assert b" 101 " in head.split(b"\r\n")[0], head
        self.next_id = 0

    def _send(self, text):
        data = text.encode()
        mask = os.urandom(4)
        if len(data) < 126:
            header = bytes([0x81, 0x80 | len(data)])
        elif len(data) < 1 << 16:
            header = bytes([0x81, 0x80 | 126]) + len(data).to_bytes(2, "big")
        else:
            header = bytes([0x81, 0x80 | 127]) + len(data).to_bytes(8, "big")
        self.sock.sendall(header + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data)))

    def _exact(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("DevTools connection closed")
            data += chunk
        return data

    def _receive(self):
        message = b""
        while True:
            first, second = self._exact(2)
            length = second & 0x7F
            if length == 126:
                length = int.from_bytes(self._exact(2), "big")
            elif length == 127:
                length = int.from_bytes(self._exact(8), "big")
            message += self._exact(length)
            if first & 0x80:
                return json.loads(message)

    def call(self, method, **params):
        """Sends a command and returns its result (events meanwhile are skipped)."""
        self.next_id += 1
        self._send(json.dumps({"id": self.next_id, "method": method, "params": params}))
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            message = self._receive()
            if message.get("id") == self.next_id:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return message.get("result", {})
        raise TimeoutError(f"{method}: no answer within {self.timeout} s")

    def evaluate(self, expression):
        """The value of a JavaScript expression in the page (promises awaited)."""
        result = self.call("Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True)
        if "exceptionDetails" in result:
            raise RuntimeError(f"{expression}: {result['exceptionDetails']}")
        return result["result"].get("value")

    def wait_for(self, expression, timeout=20.0, what="the condition"):
        """Polls a JavaScript condition until it is true."""
        deadline = time.monotonic() + timeout
        while not self.evaluate(expression):
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout} s waiting for {what}")
            time.sleep(0.05)

    def navigate(self, url):
        self.call("Page.navigate", url=url)

    def type_key(self, char):
        """One key press, through the browser's input pipeline as a user's would go."""
        self.call("Input.dispatchKeyEvent", type="keyDown", key=char, text=char)
        self.call("Input.dispatchKeyEvent", type="keyUp", key=char)

    def screenshot(self, path: Path):
        data = self.call("Page.captureScreenshot", format="png")["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))

    def close(self):
        try:
            self.sock.close()
        except (AttributeError, OSError):
            pass
        if self.browser.poll() is None:
            # Its renderers and helpers are in its session's process group.
            os.killpg(self.browser.pid, signal.SIGKILL)
            self.browser.wait(timeout=10)
        shutil.rmtree(self.profile, ignore_errors=True)
