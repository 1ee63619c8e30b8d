"""Helpers shared by the functional browser tests of the web UI (the fixtures `daemon`,
`browser` and `page` come from conftest.py)."""

import json
import time

from playwright.sync_api import expect


def start(daemon, *argv, name=None, labels=(), extra=()):
    """Starts PROGRAM ARGS through the CLI (`tend start`); returns the new process's id."""
    args = ["start"]
    if name:
        args += ["--name", name]
    for label in labels:
        args += ["--label", label]
    args += list(extra)
    result = daemon.tend(*args, "--", *argv)
    assert result.returncode == 0, f"tend start failed: {result.stderr}"
    return result.stdout.strip().splitlines()[-1]


def api_ok(daemon, method, path, body=None):
    """An API call through the bearer token that must succeed; returns the decoded body."""
    status, answer = daemon.api(method, path, body)
    assert 200 <= status < 300, f"{method} {path}: {status} {answer}"
    return answer


def info(daemon, process_id):
    """The process's info as the API gives it."""
    return api_ok(daemon, "GET", f"/api/v1/processes/{process_id}")


def until(check, timeout=10.0, what="the condition"):
    """Polls `check()` every 50 ms until it returns something true; fails after `timeout`."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.05)


def open_page(page, daemon, hash_route="#/"):
    """Opens the UI at `hash_route` and waits until its event stream is live."""
    page.goto(f"{daemon.base}/ui/{hash_route}")
    expect(page.get_by_test_id("conn-state")).to_have_text("live", timeout=10_000)


def row(page, process_id):
    """The overview row of a process."""
    return page.get_by_test_id(f"process-row-{process_id}")


def confirm(page):
    """Clicks OK in the confirmation dialog."""
    page.get_by_test_id("confirm-ok").click()


def output(daemon, process_id):
    """The process's captured output, as text."""
    return api_ok(daemon, "GET", f"/api/v1/processes/{process_id}/output?format=json")


def dumps(value):
    return json.dumps(value, indent=1)
