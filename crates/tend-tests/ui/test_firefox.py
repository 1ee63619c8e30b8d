"""The same pages in Firefox: Debian's firefox-esr, headless, driven over its own Marionette
protocol (the `marionette_driver` package), since Playwright's Firefox is a patched build
this machine cannot download. Login, the live overview, a process page with escaped output,
and a stop through the confirmation; a screenshot of each page."""

import base64
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest
from marionette_driver.by import By
from marionette_driver.marionette import Marionette

from conftest import SCREENSHOTS, free_port
from ui_helpers import info, start, until

FIREFOX = "/usr/bin/firefox-esr"


@pytest.fixture
def firefox():
    """A headless Firefox with a fresh profile, and a Marionette session on it."""
    profile = Path(tempfile.mkdtemp(prefix="tend-firefox-"))
    port = free_port()
    (profile / "user.js").write_text(f'user_pref("marionette.port", {port});\n')
    process = subprocess.Popen(
        [FIREFOX, "--headless", "--marionette", "--no-remote", "--profile", str(profile)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        until(lambda: reachable(port), timeout=30, what="Firefox's Marionette port")
        client = Marionette(host="127.0.0.1", port=port)
        client.start_session()
        yield client
        client.delete_session()
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def reachable(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def text(client, selector):
    """The text of the first element matching `selector`, or None."""
    return client.execute_script(
        "const e = document.querySelector(arguments[0]); return e ? e.textContent : null;",
        script_args=[selector],
    )


def shot(client, name):
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    png = client.screenshot(format="base64")
    (SCREENSHOTS / f"firefox_{name}.png").write_bytes(base64.b64decode(png))


def test_firefox_logs_in_shows_live_pages_and_stops_a_process(daemon, firefox):
    evil = "<img src=x onerror=alert(1)>"
    process_id = start(daemon, "sh", "-c", f"echo '{evil}'; sleep 300", name="fox")
    firefox.navigate(daemon.login_url())
    assert firefox.get_url() == f"{daemon.base}/ui/"
    until(lambda: text(firefox, "[data-testid=conn-state]") == "live", what="the live overview")
    row = f"[data-testid=process-row-{process_id}]"
    until(lambda: "fox" in (text(firefox, row) or ""), what="the process on the overview")
    shot(firefox, "overview")

    # A process started after the page opened appears live.
    late = start(daemon, "sleep", "300", name="late")
    until(lambda: text(firefox, f"[data-testid=process-row-{late}]"), what="a process started later")

    firefox.find_element(By.CSS_SELECTOR, f"{row} a").click()
    line = "[data-testid=log-line][data-stream=stdout] .text"
    until(lambda: text(firefox, line) == evil, what="the output line, as text")
    assert firefox.execute_script("return document.querySelectorAll('main img').length") == 0
    shot(firefox, "process")

    firefox.find_element(By.CSS_SELECTOR, "[data-testid=action-stop]").click()
    until(lambda: text(firefox, "[data-testid=confirm-ok]"), what="the confirmation")
    firefox.find_element(By.CSS_SELECTOR, "[data-testid=confirm-ok]").click()
    until(lambda: info(daemon, process_id)["status"] == "killed", what="the stop")
    until(lambda: text(firefox, "[data-testid=status]") == "killed", what="the status on the page")
    shot(firefox, "stopped")
