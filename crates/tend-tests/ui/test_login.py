"""Logging in to the web UI: the one-time link `tend ui` prints, refused when reused or
expired, and no data without the session cookie."""

import time

import pytest
from playwright.sync_api import expect

REFUSED = "This login link has expired or was already used. Run tend ui again for a new one."


def api_status(page, path="/api/v1/processes"):
    """The status of a same-origin API GET made by the page itself (with its cookie)."""
    return page.evaluate(
        "path => fetch(path, {credentials: 'same-origin'}).then(answer => answer.status)", path
    )


def test_login_through_the_tend_ui_url(daemon, page):
    cookies = page.context.cookies()
    assert [cookie["name"] for cookie in cookies] == ["tend_session"], cookies
    cookie = cookies[0]
    assert cookie["httpOnly"] and cookie["sameSite"] == "Strict" and cookie["path"] == "/", cookie
    assert cookie["value"] != daemon.token and len(cookie["value"]) == 64
    # The page reads the API with the cookie alone.
    assert api_status(page) == 200
    # The token is nowhere the page can see: not in its address, its text or its storage,
    # and the cookie is out of the scripts' reach.
    assert daemon.token not in page.url
    assert daemon.token not in page.content()
    storage = page.evaluate(
        "() => JSON.stringify([Object.entries(localStorage), Object.entries(sessionStorage)])"
    )
    assert daemon.token not in storage
    assert "tend_session" not in page.evaluate("() => document.cookie")


@pytest.mark.allow_console_errors  # the refused link answers 401
def test_a_reused_code_is_refused_with_the_page(daemon, new_page):
    url = daemon.login_url()
    first = new_page()
    first.goto(url)
    assert first.url == f"{daemon.base}/ui/"
    second = new_page()
    answer = second.goto(url)
    assert answer.status == 401
    expect(second.locator("body")).to_contain_text(REFUSED)
    assert second.context.cookies() == []
    assert api_status(second) == 401
    # The first login is unaffected.
    assert api_status(first) == 200


@pytest.mark.allow_console_errors  # the refused link answers 401
def test_an_expired_code_is_refused_with_the_page(make_daemon, new_page):
    # A test-only flag shortens the 60 s lifetime, so the test need not wait a minute.
    daemon = make_daemon("--ui-code-lifetime", "1s")
    url = daemon.login_url()
    fresh = new_page()
    fresh.goto(daemon.login_url())
    assert fresh.url == f"{daemon.base}/ui/", "a code used within its lifetime logs in"
    time.sleep(1.5)  # past the 1 s lifetime; bounded
    late = new_page()
    answer = late.goto(url)
    assert answer.status == 401
    expect(late.locator("body")).to_contain_text(REFUSED)
    assert late.context.cookies() == []


@pytest.mark.allow_console_errors  # the API answers the page 401
def test_no_cookie_no_data(daemon, anon_page):
    daemon.tend("start", "--name", "secret-worker", "--", "sleep", "300")
    anon_page.goto(f"{daemon.base}/")
    assert anon_page.url == f"{daemon.base}/ui/", "/ redirects to the UI"
    expect(anon_page.get_by_text("Not logged in")).to_be_visible()
    assert api_status(anon_page) == 401
    body = anon_page.evaluate("() => fetch('/api/v1/processes').then(answer => answer.text())")
    assert "secret-worker" not in body and "unauthorized" in body
    assert "secret-worker" not in anon_page.content()
    # A made-up session cookie is no better.
    anon_page.context.add_cookies(
        [{"name": "tend_session", "value": "ab" * 32, "url": daemon.base}]
    )
    assert api_status(anon_page) == 401
