"""API checks schemathesis cannot express, run by scripts/schemathesis.sh (the standard library,
and jsonschema_rs, which schemathesis brings into its virtualenv).

    api_checks.py handshake                    the /events WebSocket handshake, good and bad
    api_checks.py events                       the messages of /events against the document's
                                               EventMessage schema (x-websocket-message)
    api_checks.py stop-daemon CODE NAME PID    POST /daemons/CODE/NAME/stop; PID must exit
    api_checks.py stop-self PID                the daemon under test stops itself by its route

The daemon's URL and token come from SCHEMATHESIS_URL and SCHEMATHESIS_TOKEN. Every check
fails (exit 1) on a 5xx, an unexpected status, or a body that is not as documented.
"""

import base64
import hashlib
import json
import os
import socket
import sys
import time
import urllib.parse

URL = urllib.parse.urlsplit(os.environ["SCHEMATHESIS_URL"])
TOKEN = os.environ["SCHEMATHESIS_TOKEN"]
WS_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
KEY = base64.b64encode(b"sixteen byte key").decode()
UPGRADE = {
    "Connection": "Upgrade",
    "Upgrade": "websocket",
    "Sec-WebSocket-Version": "13",
    "Sec-WebSocket-Key": KEY,
}
failures = []


def request(method, path, headers, body=b""):
    """One request on a fresh connection: (status, headers, body, socket left open)."""
    sock = socket.create_connection((URL.hostname, URL.port), timeout=10)
    lines = [f"{method} {path} HTTP/1.1", f"Host: {URL.netloc}"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    if body or method == "POST":
        lines.append(f"Content-Length: {len(body)}")
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode() + body)
    raw = b""
    while b"\r\n\r\n" not in raw:
        chunk = sock.recv(4096)
        if not chunk:
            break
        raw += chunk
    head, _, rest = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    status = int(status_line.split(" ")[1])
    reply_headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        reply_headers[name.strip().lower()] = value.strip()
    if status != 101:
        length = int(reply_headers.get("content-length", "-1"))
        while length < 0 or len(rest) < length:
            chunk = sock.recv(65536)
            if not chunk:
                break
            rest += chunk
    return status, reply_headers, rest, sock


def check(what, ok, detail):
    print(("ok      " if ok else "FAILED  ") + what + ("" if ok else f": {detail}"))
    if not ok:
        failures.append(what)


def expect_error(what, status, reply_headers, body, allowed):
    """A documented 4xx with the API's JSON error shape."""
    detail = f"{status} {reply_headers.get('content-type')} {body[:200]!r}"
    try:
        error = json.loads(body)["error"]
        shaped = isinstance(error["code"], str) and isinstance(error["message"], str)
    except (ValueError, KeyError, TypeError):
        shaped = False
    is_json = reply_headers.get("content-type", "").startswith("application/json")
    check(what, status in allowed and is_json and shaped, detail)


def upgrade(what, path, headers):
    """A handshake that must succeed: 101 with the right accept key, then a clean close."""
    accept = base64.b64encode(hashlib.sha1((KEY + WS_GUID).encode()).digest()).decode()
    status, reply_headers, body, sock = request("GET", path, headers)
    good = status == 101 and reply_headers.get("sec-websocket-accept") == accept
    check(what, good, f"{status} {reply_headers} {body[:200]!r}")
    if status == 101:
        # A masked close frame (code 1000); the server answers with its own close.
        sock.sendall(bytes([0x88, 0x82, 1, 2, 3, 4, 0x03 ^ 1, 0xE8 ^ 2]))
    sock.close()


def refused(what, method, path, headers, allowed):
    status, reply_headers, body, sock = request(method, path, headers)
    sock.close()
    if status == 405:
        # The router's own answer for a method a route does not have: no body promised.
        check(what, status in allowed, f"{status}")
    else:
        expect_error(what, status, reply_headers, body, allowed)


def handshake():
    auth = {"Authorization": f"Bearer {TOKEN}"}
    quoted = urllib.parse.quote(TOKEN)
    upgrade("handshake with a bearer token", "/api/v1/events", {**auth, **UPGRADE})
    upgrade("handshake with ?token=", f"/api/v1/events?token={quoted}", UPGRADE)
    for since in ["0", "1", "4096", str(2**63), str(2**64 - 1), "00"]:
        upgrade(f"handshake with since={since}", f"/api/v1/events?since={since}",
                {**auth, **UPGRADE})
    for since in ["-1", "", "abc", "1.5", "1e3", str(2**64), "%201", "%00"]:
        refused(f"handshake with since={since!r}", "GET", f"/api/v1/events?since={since}",
                {**auth, **UPGRADE}, {400})
    for token in ["", "wrong", "x" * 4096, "%00", quoted + "x", "%FF%FE"]:
        refused(f"handshake with token={token[:20]!r}", "GET", f"/api/v1/events?token={token}",
                UPGRADE, {401, 400})
    without_key = {name: v for name, v in UPGRADE.items() if name != "Sec-WebSocket-Key"}
    for what, method, path, headers, allowed in [
        ("no Sec-WebSocket-Key", "GET", "/api/v1/events", {**auth, **without_key}, {400}),
        ("Sec-WebSocket-Version 12", "GET", "/api/v1/events",
         {**auth, **UPGRADE, "Sec-WebSocket-Version": "12"}, {400}),
        ("Upgrade: h2c", "GET", "/api/v1/events", {**auth, **UPGRADE, "Upgrade": "h2c"}, {400}),
        ("no upgrade headers", "GET", "/api/v1/events", auth, {400}),
        ("no token", "GET", "/api/v1/events", UPGRADE, {401}),
        ("an unknown parameter", "GET", "/api/v1/events?sincee=1", {**auth, **UPGRADE}, {400}),
        ("POST with upgrade headers", "POST", "/api/v1/events", {**auth, **UPGRADE}, {405}),
    ]:
        refused(what, method, path, headers, allowed)


def read_frame(sock, buffer):
    """One unmasked server frame: (opcode, payload, rest of the buffer)."""
    def need(n):
        nonlocal buffer
        while len(buffer) < n:
            chunk = sock.recv(65536)
            if not chunk:
                raise EOFError("the server closed the connection")
            buffer += chunk
    need(2)
    opcode, length = buffer[0] & 0x0F, buffer[1] & 0x7F
    header = 2
    if length == 126:
        need(4)
        length, header = int.from_bytes(buffer[2:4], "big"), 4
    elif length == 127:
        need(10)
        length, header = int.from_bytes(buffer[2:10], "big"), 10
    need(header + length)
    return opcode, buffer[header:header + length], buffer[header + length:]


def events():
    """Every message /events replays (all that the fuzzing left in the log, plus a pipeline and
    a process started here) must match the EventMessage schema the document references from
    the route's `x-websocket-message`; each kind of message must be seen at least once."""
    import jsonschema_rs

    auth = {"Authorization": f"Bearer {TOKEN}"}
    status, _, body, sock = request("GET", "/api/v1/openapi.json", auth)
    sock.close()
    document = json.loads(body)
    message = document["paths"]["/events"]["get"]["x-websocket-message"]
    validator = jsonschema_rs.validator_for({**message, "components": document["components"]})
    json_auth = {**auth, "Content-Type": "application/json"}

    def post(path, value):
        status, _, body, sock = request("POST", path, json_auth, json.dumps(value).encode())
        sock.close()
        return status, json.loads(body) if body else None

    # The daemon has no PATH: programs are named by absolute path. Output on both streams,
    # then an exit code; a process killed by us; a step that fails and one it blocks.
    status, _ = post("/api/v1/processes/run",
                     {"command": "/bin/sh", "args": ["-c", "echo out; echo err >&2; exit 3"]})
    check("a process runs", status == 200, f"{status}")
    status, started = post("/api/v1/processes", {"command": "/bin/sh", "args": ["-c", "read line"], "stdin": "piped"})
    check("a process starts", status == 201, f"{status} {started}")
    if status == 201:
        status, _ = post(f"/api/v1/processes/{started['id']}/kill", {})
        check("it is killed", status == 200, f"{status}")
        status, info = post(f"/api/v1/processes/{started['id']}/wait?timeout=10s", {})
        check("it ends", status == 200 and info["status"] == "killed", f"{status} {info}")
    steps = [{"name": "a", "command": "/bin/sh", "args": ["-c", "exit 1"]},
             {"name": "b", "command": "/bin/sh", "after": ["a"]}]
    status, started = post("/api/v1/pipelines", {"steps": steps})
    check("a pipeline starts", status == 202, f"{status} {started}")
    pipeline_id = started.get("id") if status == 202 else None
    # The first frames may come in the same read as the 101's headers: `rest` is theirs.
    status, _, rest, sock = request("GET", "/api/v1/events?since=0", {**auth, **UPGRADE})
    check("the replay opens", status == 101, f"{status}")
    sock.settimeout(10)
    buffer, seen, bad = rest, set(), []
    try:
        while pipeline_id is not None:
            opcode, payload, buffer = read_frame(sock, buffer)
            if opcode == 0x8:
                break
            if opcode != 0x1:
                continue
            event = json.loads(payload)
            seen.add(event.get("event"))
            if not validator.is_valid(event) and len(bad) < 3:
                errors = "; ".join(str(e) for e in validator.iter_errors(event))
                bad.append(f"{payload[:300]!r}: {errors[:500]}")
            if event.get("event") == "pipeline_finished" and event.get("pipeline") == pipeline_id:
                break
    except (OSError, EOFError) as error:
        bad.append(f"reading the replay: {error}")
    sock.close()
    check("every replayed message matches EventMessage", not bad, "\n".join(bad))
    wanted = {"started", "output", "killed", "exited", "pipeline_started", "step_started",
              "step_finished", "pipeline_finished"}
    check("every kind of message was seen", wanted <= seen, f"missing {wanted - seen}")


def stopped(pid, within):
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat") as stat:
                if stat.read().rsplit(")", 1)[1].split()[0] == "Z":
                    return True
        except FileNotFoundError:
            return True
        time.sleep(0.05)
    return False


def stop(code, name, pid):
    """POST the stop route: 200 with the documented body, then the process ends."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    status, _, body, sock = request("POST", f"/api/v1/daemons/{code}/{name}/stop", auth)
    sock.close()
    try:
        reply = json.loads(body)
        shaped = (
            reply["signalled"] is True
            and reply["entry"]["code"] == code
            and reply["entry"]["daemon"] == name
            and reply["entry"]["pid"] == pid
        )
    except (ValueError, KeyError, TypeError):
        shaped = False
    check(f"stop {code}/{name}", status == 200 and shaped, f"{status} {body[:300]!r}")
    check(f"{code}/{name} (pid {pid}) exits", stopped(pid, 20), "still running after 20 s")


def stop_daemon(code, name, pid):
    stop(code, name, pid)
    auth = {"Authorization": f"Bearer {TOKEN}"}
    status, headers, body, sock = request("POST", f"/api/v1/daemons/{code}/{name}/stop", auth)
    sock.close()
    expect_error(f"stop {code}/{name} again", status, headers, body, {404})


def stop_self(pid):
    """Finds the daemon under test's own registry entry by its PID and stops it by its route."""
    auth = {"Authorization": f"Bearer {TOKEN}"}
    status, _, body, sock = request("GET", "/api/v1/daemons", auth)
    sock.close()
    entries = [e for e in json.loads(body) if e["pid"] == pid] if status == 200 else []
    check("the daemon under test is registered", len(entries) == 1, f"{status} {body[:300]!r}")
    if entries:
        stop(entries[0]["code"], entries[0]["daemon"], pid)


def main():
    command, *args = sys.argv[1:]
    if command == "handshake":
        handshake()
    elif command == "events":
        events()
    elif command == "stop-daemon":
        stop_daemon(args[0], args[1], int(args[2]))
    elif command == "stop-self":
        stop_self(int(args[0]))
    else:
        sys.exit(f"unknown command {command}")
    if failures:
        sys.exit(f"{len(failures)} check(s) failed: {', '.join(failures)}")


main()
