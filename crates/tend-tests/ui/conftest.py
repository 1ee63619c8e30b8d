"""Fixtures of the web UI's browser tests (run by scripts/ui-test.sh).

* ``daemon``: a real ``target/debug/tend daemon`` on a free loopback port with its own
  state directory, stopped at teardown. ``make_daemon(*flags)`` starts more (or one with
  extra flags).
* ``browser``: one headless Chromium (Debian's, /usr/bin/chromium) for the session.
* ``page``: a fresh browser context logged in through the URL ``tend ui`` printed, on
  ``/ui/``. ``anon_page``: a fresh context that never logged in.

Every page fails its test on a console error or an uncaught page error (mark a test
``@pytest.mark.allow_console_errors`` when it provokes them on purpose, e.g. a 401) and
leaves a screenshot in ``target/ui-screenshots/<test name>.png``. Every wait is bounded.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[3]
TARGET = Path(os.environ.get("CARGO_TARGET_DIR", ROOT / "target"))
TEND = TARGET / "debug" / "tend"
SCREENSHOTS = TARGET / "ui-screenshots"
CHROMIUM = os.environ.get("TEND_UI_CHROMIUM", "/usr/bin/chromium")
# Bounds: a daemon starts and a CLI command ends within these on a loaded machine.
START_TIMEOUT = 20.0
COMMAND_TIMEOUT = 30.0
STOP_TIMEOUT = 15.0
# Playwright's own waits (navigation, expect, locators), in milliseconds.
PAGE_TIMEOUT_MS = 10_000


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "allow_console_errors: the test provokes console errors on purpose"
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Daemon:
    """A ``tend daemon`` of the tests: ``base`` (http://127.0.0.1:PORT), ``token``,
    ``tend(*args)`` (the CLI pointed at it), ``api(method, path, json)`` (with the token),
    ``restart()`` (same port, same state directory)."""

    def __init__(self, home: Path, flags: tuple[str, ...]):
        if not TEND.exists():
            raise RuntimeError(f"{TEND} is missing: run `cargo build --workspace --bins` first")
        self.home = home
        self.flags = flags
        self.state_dir = home / "xdg" / "tend"
        self.port = 0
        self.process: subprocess.Popen | None = None
        self.base = ""
        self.token = ""
        self.start()

    def env(self) -> dict[str, str]:
        env = dict(os.environ)
        env.pop("TEND_TOKEN", None)
        env["XDG_STATE_HOME"] = str(self.home / "xdg")
        env["TEND_REGISTRY_DIR"] = str(self.home / "registry")
        if self.base:
            env["TEND_SERVER"] = self.base
        return env

    def start(self) -> None:
        listen = f"127.0.0.1:{self.port}"
        self.process = subprocess.Popen(
            [str(TEND), "daemon", "--listen", listen, "--grace", "2s", *self.flags],
            env=self.env(),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=open(self.home / "daemon.log", "ab"),
            start_new_session=True,
        )
        lines: queue.Queue[str] = queue.Queue()

        def drain(stream):
            for raw in stream:
                lines.put(raw.decode(errors="replace").rstrip("\n"))

        threading.Thread(target=drain, args=(self.process.stdout,), daemon=True).start()
        try:
            first = lines.get(timeout=START_TIMEOUT)
        except queue.Empty:
            self.stop()
            raise RuntimeError(f"tend daemon printed nothing within {START_TIMEOUT} s: {self.log()}")
        match = re.fullmatch(r"listening on (http://127\.0\.0\.1:(\d+))", first)
        if not match:
            self.stop()
            raise RuntimeError(f"tend daemon's first line: {first!r}: {self.log()}")
        self.base, self.port = match.group(1), int(match.group(2))
        self.token = (self.state_dir / "token").read_text().strip()

    def log(self) -> str:
        return (self.home / "daemon.log").read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=STOP_TIMEOUT)

    def restart(self) -> None:
        """Stops the daemon and starts it again on the same port and state directory."""
        self.stop()
        self.start()

    def tend(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        """``tend ARGS`` against this daemon; fails the test on a non-zero exit with check."""
        done = subprocess.run(
            [str(TEND), *args],
            env=self.env(),
            stdin=subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"tend {args}: exit {done.returncode}: {done.stderr}")
        return done

    def login_url(self) -> str:
        """The one-time login URL ``tend ui`` prints."""
        url = self.tend("ui").stdout.strip()
        assert url.startswith(f"{self.base}/ui/login?code="), url
        return url

    def api(self, method: str, path: str, json_body=None, headers=None):
        """One request with the token: ``path`` under ``/api/v1`` unless it starts with
        ``/api/`` or is another absolute path of the daemon (``/health``); returns
        ``(status, body)``, the body decoded from JSON when it is JSON."""
        return self.request(method, path, json_body, {"Authorization": f"Bearer {self.token}", **(headers or {})})

    def request(self, method: str, path: str, json_body=None, headers=None):
        """One request with exactly ``headers`` (no token unless given)."""
        if not path.startswith(("/api/", "/ui", "/health", "/ready", "/metrics")) and path != "/":
            path = "/api/v1" + path
        data = None
        headers = dict(headers or {})
        if json_body is not None:
            data = json.dumps(json_body).encode()
            headers.setdefault("Content-Type", "application/json")
        request = urllib.request.Request(self.base + path, data=data, method=method, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=COMMAND_TIMEOUT) as answer:
                status, body = answer.status, answer.read()
        except urllib.error.HTTPError as error:
            status, body = error.code, error.read()
        try:
            return status, json.loads(body) if body else None
        except ValueError:
            return status, body.decode(errors="replace")


@pytest.fixture
def make_daemon():
    """Starts daemons (``make_daemon(*flags)``), each with its own home; stops them all."""
    started: list[tuple[Daemon, Path]] = []

    def make(*flags: str) -> Daemon:
        home = Path(tempfile.mkdtemp(prefix="tend-ui-"))
        try:
            daemon = Daemon(home, flags)
        except BaseException:
            shutil.rmtree(home, ignore_errors=True)
            raise
        started.append((daemon, home))
        return daemon

    yield make
    for daemon, home in started:
        daemon.stop()
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def daemon(make_daemon) -> Daemon:
    return make_daemon()


@pytest.fixture(scope="session")
def browser():
    if not Path(CHROMIUM).exists():
        raise RuntimeError(f"no browser at {CHROMIUM}: run scripts/py-venv.sh (it installs chromium)")
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
        )
        yield browser
        browser.close()


class PageProblems:
    """Console errors and uncaught page errors seen by the pages of one test."""

    def __init__(self):
        self.errors: list[str] = []

    def watch(self, page) -> None:
        def console(message):
            if message.type == "error":
                where = message.location.get("url", "")
                self.errors.append(f"console: {message.text} ({where})")

        page.on("console", console)
        page.on("pageerror", lambda error: self.errors.append(f"page error: {error}"))


@pytest.fixture
def page_problems(request):
    problems = PageProblems()
    yield problems
    if problems.errors and not request.node.get_closest_marker("allow_console_errors"):
        pytest.fail("errors in the browser:\n" + "\n".join(problems.errors), pytrace=False)


@pytest.fixture
def new_page(browser, page_problems, request):
    """``new_page()``: a page in a fresh context (no cookie), watched for errors; each gets a
    screenshot at teardown (``<test>.png``, then ``<test>-2.png``...)."""
    contexts = []

    def make():
        context = browser.new_context()
        context.set_default_timeout(PAGE_TIMEOUT_MS)
        context.set_default_navigation_timeout(PAGE_TIMEOUT_MS)
        page = context.new_page()
        page_problems.watch(page)
        contexts.append((context, page))
        return page

    yield make
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)
    for index, (context, page) in enumerate(contexts):
        suffix = "" if index == 0 else f"-{index + 1}"
        try:
            if not page.is_closed():
                page.screenshot(path=str(SCREENSHOTS / f"{name}{suffix}.png"), full_page=True, timeout=PAGE_TIMEOUT_MS)
        finally:
            context.close()


@pytest.fixture
def anon_page(new_page):
    """A page in a context that never logged in."""
    return new_page()


@pytest.fixture
def page(daemon, new_page):
    """A page logged in through ``tend ui``'s URL, on ``/ui/``."""
    page = new_page()
    page.goto(daemon.login_url())
    assert page.url == f"{daemon.base}/ui/", page.url
    return page
