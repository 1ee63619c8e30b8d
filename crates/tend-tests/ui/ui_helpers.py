"""Helpers shared by the functional browser tests of the web UI (the fixtures `daemon`,
`browser` and `page` come from conftest.py)."""

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
    return daemon.tend(*args, "--", *argv).stdout.strip().splitlines()[-1]


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


def expect_refusals_logged(page_problems, status):
    """A refusal the test provokes on purpose: the browser logs each failed request as a
    console error ("Failed to load resource: ... status of 409"). Takes exactly those out of
    the errors the harness fails the test on (at least one must be there); any other error
    still fails it."""
    wanted = f"status of {status} "
    refused = [e for e in page_problems.errors if "Failed to load resource" in e and wanted in e]
    assert refused, f"no refused request ({status}) logged: {page_problems.errors}"
    page_problems.errors[:] = [e for e in page_problems.errors if e not in refused]


def expect_reconnect_errors_logged(page_problems):
    """While the daemon is away (restarting) and then refuses the old session, the browser
    logs each failed reconnect as a console error. Takes exactly those out of the errors the
    harness fails the test on; any other error still fails it."""
    expected = ("WebSocket connection to", "status of 401 ", "ERR_CONNECTION_REFUSED")
    page_problems.errors[:] = [
        e for e in page_problems.errors if not any(mark in e for mark in expected)
    ]
