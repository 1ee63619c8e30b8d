"""A dropped event stream: the page says it is reconnecting, resumes from its last seq
(nothing missed, nothing twice); the daemon restarted under the page: it catches up."""

import re

from playwright.sync_api import expect

from ui_helpers import api_ok, expect_reconnect_errors_logged, open_page, row, start, until


def test_a_dropped_stream_resumes_from_the_last_seq(daemon, page):
    sockets = []
    blocked = {"on": False}

    def route(ws):
        if blocked["on"]:
            ws.close()
            return
        ws.connect_to_server()
        sockets.append(ws)

    page.route_web_socket(re.compile(r".*/api/v1/events.*"), route)
    process_id = start(daemon, "sh", "-c", 'echo before; read go; seq -f "during %g" 1 500; sleep 300')
    # The page is already open (logged in): load it again so both its streams go through the route.
    page.reload()
    expect(page.get_by_test_id("conn-state")).to_have_text("live")
    page.goto(f"{daemon.base}/ui/#/process/{process_id}")
    expect(page.get_by_test_id("log-line").filter(has_text="before")).to_be_visible()
    assert len(sockets) == 2, "the overview's stream and the log view's"

    # Drop every connection and refuse new ones while the process prints.
    blocked["on"] = True
    for ws in sockets:
        ws.close()
    expect(page.get_by_test_id("conn-state")).to_have_text("reconnecting")
    api_ok(daemon, "POST", f"/api/v1/processes/{process_id}/input", {"data": "go\n"})
    until(lambda: len(api_ok(daemon, "GET", f"/api/v1/processes/{process_id}/output")["lines"]) == 501,
          what="the lines printed while disconnected")
    late = start(daemon, "sleep", "300", name="started-while-away")
    blocked["on"] = False

    expect(page.get_by_test_id("conn-state")).to_have_text("live", timeout=10_000)
    expect(page.get_by_test_id("log-count")).to_have_text("501 lines", timeout=10_000)
    texts = page.evaluate("""() => [...document.querySelectorAll('[data-testid=log-line] .text')]
        .map(n => n.textContent).filter(t => t.startsWith('during '))""")
    numbers = [int(t.split()[1]) for t in texts]
    assert numbers == sorted(set(numbers)), "lines repeated or out of order"
    assert numbers[-1] == 500
    page.goto(f"{daemon.base}/ui/#/")
    expect(row(page, late)).to_be_visible()


def test_the_daemon_restarted_under_the_page(daemon, page, page_problems):
    first = start(daemon, "sleep", "300", name="before-restart")
    open_page(page, daemon)
    expect(row(page, first)).to_be_visible()
    page.evaluate("window.__same_page = true")

    daemon.restart()
    expect(page.get_by_test_id("conn-state")).to_have_text("reconnecting", timeout=10_000)
    # Sessions die with the daemon: the page says to log in again.
    expect(page.get_by_test_id("logged-out")).to_be_visible(timeout=10_000)
    started_meanwhile = start(daemon, "sleep", "300", name="after-restart")

    # A new login in another tab gives the context a new session; this page picks it up.
    other = page.context.new_page()
    other.goto(daemon.login_url())
    other.close()

    expect(page.get_by_test_id("conn-state")).to_have_text("live", timeout=10_000)
    expect(row(page, started_meanwhile)).to_be_visible(timeout=10_000)
    # And it is live again: a process that ends now changes status on the page.
    ending = start(daemon, "sh", "-c", "sleep 0.5; exit 4", name="ends-after-restart")
    expect(row(page, ending).get_by_test_id("status")).to_have_text("failed", timeout=10_000)
    assert page.evaluate("window.__same_page === true"), "the page reloaded"
    expect_reconnect_errors_logged(page_problems)
