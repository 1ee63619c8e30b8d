"""The session cookie cannot be used by other pages: a foreign Origin cannot change state
with it, a request without `X-Tend-Csrf: 1` is refused, logout ends the session on the
server, and a WebSocket with the cookie needs the daemon's own Origin."""

import socket

import pytest


def start_sleeper(daemon, name):
    status, body = daemon.api("POST", "/processes", {"command": "sleep", "args": ["300"], "name": name})
    assert status == 201, body
    return body["id"]


def status_of(daemon, id):
    status, body = daemon.api("GET", f"/processes/{id}")
    assert status == 200, body
    return body["status"]


def session_cookie(page):
    (cookie,) = [c for c in page.context.cookies() if c["name"] == "tend_session"]
    return f"tend_session={cookie['value']}"


def websocket_status(daemon, headers):
    """The status code a WebSocket handshake to /api/v1/events gets with `headers`."""
    lines = [
        "GET /api/v1/events HTTP/1.1",
        f"Host: 127.0.0.1:{daemon.port}",
        "Connection: Upgrade",
        "Upgrade: websocket",
        "Sec-WebSocket-Version: 13",
        "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==",
        *[f"{name}: {value}" for name, value in headers.items()],
        "",
        "",
    ]
    with socket.create_connection(("127.0.0.1", daemon.port), timeout=10) as sock:
        sock.sendall("\r\n".join(lines).encode())
        head = sock.recv(4096).decode(errors="replace")
    return int(head.split()[1])


def open_foreign_page(page, foreign):
    """Navigates `page` (same browser context, so same cookies) to a page of origin
    `foreign`, served by the test itself."""
    page.context.route(
        f"{foreign}/**",
        lambda route: route.fulfill(status=200, content_type="text/html", body="<!doctype html><title>elsewhere</title>"),
    )
    page.goto(f"{foreign}/attack.html")


@pytest.mark.allow_console_errors  # the browser reports the refused cross-origin requests
def test_a_foreign_origin_cannot_change_state_with_the_cookie(daemon, page):
    victim = start_sleeper(daemon, "victim")
    # Another program on another port of the same host: the same *site*, so the browser
    # sends the SameSite=Strict cookie along. Only the Origin check stops it.
    foreign = "http://127.0.0.1:9"
    attacker = page.context.new_page()
    open_foreign_page(attacker, foreign)
    kill = f"{daemon.base}/api/v1/processes/{victim}/kill"
    outcomes = attacker.evaluate(
        """async url => {
            const results = [];
            // A simple request (no preflight), cookie included: refused by the Origin check.
            try {
                await fetch(url, {method: 'POST', mode: 'no-cors', credentials: 'include'});
                results.push('sent');
            } catch (e) { results.push('failed'); }
            // With the CSRF header: the preflight is not granted, so it is never sent.
            try {
                await fetch(url, {method: 'POST', credentials: 'include', headers: {'X-Tend-Csrf': '1'}});
                results.push('answered');
            } catch (e) { results.push('blocked'); }
            return results;
        }""",
        kill,
    )
    assert outcomes[1] == "blocked", outcomes
    # A form posted from there (what a plain HTML page can do without scripts).
    attacker.evaluate(
        """url => { const form = document.createElement('form');
                    form.method = 'POST'; form.action = url; document.body.append(form); form.submit(); }""",
        kill,
    )
    attacker.wait_for_url(kill)
    assert "refused" in attacker.content()
    assert status_of(daemon, victim) == "running"
    # The same request with the cookie, the CSRF header and that Origin, sent by hand: the
    # answer names the origin.
    cookie = session_cookie(page)
    status, body = daemon.request("POST", f"/processes/{victim}/kill", headers={"Cookie": cookie, "X-Tend-Csrf": "1", "Origin": foreign})
    assert status == 403 and foreign in body["error"]["message"], body
    assert status_of(daemon, victim) == "running"
    # From the daemon's own page, with the header, the cookie is enough.
    assert page.evaluate(
        """url => fetch(url, {method: 'POST', credentials: 'same-origin', headers: {'X-Tend-Csrf': '1'}}).then(a => a.status)""",
        kill,
    ) == 200
    assert daemon.api("POST", f"/processes/{victim}/wait", {"timeout": "10s"})[0] == 200
    assert status_of(daemon, victim) == "killed"


@pytest.mark.allow_console_errors  # the refused request answers 403
def test_a_request_without_the_csrf_header_is_refused(daemon, page):
    victim = start_sleeper(daemon, "victim")
    kill = f"/api/v1/processes/{victim}/kill"
    answer = page.evaluate(
        """url => fetch(url, {method: 'POST', credentials: 'same-origin'}).then(async a => [a.status, await a.json()])""",
        kill,
    )
    assert answer[0] == 403 and "X-Tend-Csrf" in answer[1]["error"]["message"], answer
    assert status_of(daemon, victim) == "running"
    # Reading needs no header.
    assert page.evaluate("url => fetch(url).then(a => a.status)", f"/api/v1/processes/{victim}") == 200


@pytest.mark.allow_console_errors  # after logout the API answers 401
def test_logout_ends_the_session(daemon, page):
    cookie = session_cookie(page)
    logout = page.evaluate(
        "() => fetch('/ui/logout', {method: 'POST', credentials: 'same-origin', headers: {'X-Tend-Csrf': '1'}}).then(a => a.status)"
    )
    assert logout == 204
    assert [c for c in page.context.cookies() if c["name"] == "tend_session"] == []
    assert page.evaluate("() => fetch('/api/v1/processes').then(a => a.status)") == 401
    # Ended on the server too: the old cookie, replayed, is refused.
    status, body = daemon.request("GET", "/processes", headers={"Cookie": cookie})
    assert status == 401, body


def test_a_websocket_with_the_cookie_needs_the_daemons_origin(daemon, page):
    cookie = session_cookie(page)
    own = daemon.base
    assert websocket_status(daemon, {"Cookie": cookie, "Origin": own}) == 101
    assert websocket_status(daemon, {"Cookie": cookie, "Origin": "http://127.0.0.1:9"}) == 403
    assert websocket_status(daemon, {"Cookie": cookie}) == 403
    assert websocket_status(daemon, {"Origin": own}) == 401
    # In the browser: the daemon's page opens the stream, the foreign one cannot.
    opened = page.evaluate(
        """url => new Promise(resolve => {
            const socket = new WebSocket(url);
            socket.onopen = () => { socket.close(); resolve('open'); };
            socket.onerror = () => resolve('refused');
            setTimeout(() => resolve('timeout'), 5000);
        })""",
        f"ws://127.0.0.1:{daemon.port}/api/v1/events",
    )
    assert opened == "open"


@pytest.mark.allow_console_errors  # the browser reports the refused handshake
def test_a_foreign_page_cannot_open_the_event_stream(daemon, page):
    attacker = page.context.new_page()
    open_foreign_page(attacker, "http://127.0.0.1:9")
    opened = attacker.evaluate(
        """url => new Promise(resolve => {
            const socket = new WebSocket(url);
            socket.onopen = () => { socket.close(); resolve('open'); };
            socket.onerror = () => resolve('refused');
            setTimeout(() => resolve('timeout'), 5000);
        })""",
        f"ws://127.0.0.1:{daemon.port}/api/v1/events",
    )
    assert opened == "refused"
