"""The process page's buttons do what the API does, checked through the API."""

from playwright.sync_api import expect

from ui_helpers import api_ok, confirm, expect_refusals_logged, info, open_page, start, until


def open_process(page, daemon, process_id):
    open_page(page, daemon, f"#/process/{process_id}")
    expect(page.get_by_test_id("action-stop")).to_be_visible()


def lines(daemon, process_id):
    answer = api_ok(daemon, "GET", f"/api/v1/processes/{process_id}/output")
    return [line["line"] for line in answer["lines"]]


def test_stop_with_grace_ends_the_process(daemon, page):
    # The shell ignores TERM: the grace runs out and SIGKILL ends it.
    process_id = start(daemon, "sh", "-c", "trap '' TERM; echo up; while :; do sleep 0.1; done")
    open_process(page, daemon, process_id)
    page.get_by_test_id("stop-grace").fill("300ms")
    page.get_by_test_id("action-stop").click()
    confirm(page)
    ended = until(lambda: (i := info(daemon, process_id))["status"] != "running" and i, what="the stop")
    assert ended["status"] == "killed"
    assert ended["signal"] == "SIGKILL"
    expect(page.locator(".title [data-testid=status]")).to_have_text("killed")


def test_cancelled_confirmation_does_nothing(daemon, page):
    process_id = start(daemon, "sleep", "300")
    open_process(page, daemon, process_id)
    page.get_by_test_id("action-kill").click()
    page.keyboard.press("Escape")
    expect(page.get_by_test_id("confirm")).to_have_count(0)
    assert info(daemon, process_id)["status"] == "running"


def test_restart_gives_a_new_run(daemon, page):
    process_id = start(daemon, "sleep", "300")
    before = info(daemon, process_id)
    open_process(page, daemon, process_id)
    page.get_by_test_id("action-restart").click()
    confirm(page)
    after = until(lambda: (i := info(daemon, process_id))["pid"] not in (None, before["pid"]) and i,
                  what="a new pid")
    assert after["status"] == "running"
    expect(page.get_by_test_id("info-pid")).to_have_text(str(after["pid"]))


def test_kill_and_signal(daemon, page):
    script = "trap 'echo got-usr1' USR1; while :; do sleep 0.1; done"
    process_id = start(daemon, "sh", "-c", script)
    open_process(page, daemon, process_id)
    page.get_by_test_id("signal-name").select_option("USR1")
    page.get_by_test_id("action-signal").click()
    confirm(page)
    until(lambda: "got-usr1" in lines(daemon, process_id), what="the trap's output")
    expect(page.get_by_test_id("log-line").filter(has_text="got-usr1")).to_be_visible()

    page.get_by_test_id("action-kill").click()
    confirm(page)
    ended = until(lambda: (i := info(daemon, process_id))["status"] != "running" and i, what="the kill")
    assert ended["status"] == "killed"
    assert ended["signal"] == "SIGKILL"


def test_send_line_to_stdin(daemon, page):
    process_id = start(daemon, "sh", "-c", 'while read line; do echo "got: $line"; done')
    open_process(page, daemon, process_id)
    page.get_by_test_id("input-line").fill("hello <b>there</b>")
    # Enter in the field sends it (keyboard use).
    page.get_by_test_id("input-line").press("Enter")
    until(lambda: "got: hello <b>there</b>" in lines(daemon, process_id), what="the echoed line")
    expect(page.get_by_test_id("input-line")).to_have_value("")
    page.get_by_test_id("input-line").fill("second")
    page.get_by_test_id("action-input").click()
    until(lambda: "got: second" in lines(daemon, process_id), what="the second line")


def test_remove_and_the_api_refusal_shown(daemon, page, page_problems):
    process_id = start(daemon, "sleep", "300", name="keep-me")
    open_process(page, daemon, process_id)
    # Removing a running process is refused (409): the API's message is shown.
    page.get_by_test_id("action-remove").click()
    confirm(page)
    status, body = daemon.api("DELETE", f"/api/v1/processes/{process_id}")
    assert status == 409
    expect(page.get_by_test_id("action-error")).to_be_visible()
    expect(page.get_by_test_id("action-error")).to_contain_text(body["error"]["message"])
    expect_refusals_logged(page_problems, 409)

    api_ok(daemon, "POST", f"/api/v1/processes/{process_id}/kill", {})
    page.get_by_test_id("action-remove").click()
    confirm(page)
    expect(page).to_have_url(f"{daemon.base}/ui/#/")
    until(lambda: daemon.api("GET", f"/api/v1/processes/{process_id}")[0] == 404, what="the removal")
