"""The log view: following long output, filtering, streams, colours, markers, escaping,
pausing and the full download."""

from playwright.sync_api import expect

from ui_helpers import api_ok, open_page, start

LAST_LINE = "line 10000 of 10000"


def open_process(page, daemon, process_id):
    open_page(page, daemon, f"#/process/{process_id}")
    expect(page.get_by_test_id("log-view")).to_be_visible()


def test_follows_ten_thousand_lines_and_the_filter_finds_one(daemon, page):
    process_id = start(daemon, "sh", "-c", 'sleep 1; seq -f "line %g of 10000" 1 10000')
    open_process(page, daemon, process_id)
    view = page.get_by_test_id("log-view")
    # Following: the last line comes into sight without any scrolling by the user.
    expect(view.get_by_test_id("log-line").filter(has_text=LAST_LINE)).to_be_visible(timeout=20_000)
    expect(page.get_by_test_id("log-follow")).to_be_checked()
    expect(page.get_by_test_id("log-count")).to_contain_text("10001 lines")  # + the exit marker
    # Only what is in sight is in the DOM (virtualised).
    assert view.get_by_test_id("log-line").count() < 200

    page.get_by_test_id("log-filter").fill("line 4242 of")
    match = view.get_by_test_id("log-line").filter(has_text="line 4242 of 10000")
    expect(match).to_be_visible()
    expect(page.get_by_test_id("log-count")).to_contain_text("of 10001 lines match")
    page.get_by_test_id("log-filter").fill("")
    expect(page.get_by_test_id("log-count")).to_have_text("10001 lines")


def test_streams_colours_and_restart_boundaries(daemon, page):
    script = r'printf "\033[1;31mred bold\033[0m plain\n"; echo "to stderr" >&2; printf "\033[2Kcleared\n"; sleep 0.3; exit 1'
    process_id = start(daemon, "sh", "-c", script, extra=["--restart", "on-failure", "--max-restarts", "1"])
    open_process(page, daemon, process_id)
    view = page.get_by_test_id("log-view")
    err = view.locator("[data-testid=log-line][data-stream=stderr]").first
    expect(err).to_contain_text("to stderr")
    red = view.locator(".ansi-fg1.ansi-bold").first
    expect(red).to_have_text("red bold")
    # Escapes that are not colours are dropped, not shown.
    cleared = view.get_by_test_id("log-line").filter(has_text="cleared").first
    expect(cleared.locator(".text")).to_have_text("cleared")
    # The run ended, was restarted once, ended again: boundaries are marked.
    markers = view.locator("[data-testid=log-line][data-stream=marker]")
    expect(markers.filter(has_text="restart 1 after exit code 1")).to_have_count(1, timeout=10_000)
    expect(markers.filter(has_text="failed (exit code 1)")).to_have_count(1, timeout=10_000)
    expect(view.locator("[data-testid=log-line][data-stream=stderr]")).to_have_count(2)


def test_html_in_output_renders_as_text(daemon, page):
    dialogs = []
    page.on("dialog", lambda dialog: (dialogs.append(dialog.message), dialog.dismiss()))
    evil = "<img src=x onerror=alert(1)>"
    process_id = start(daemon, "sh", "-c", f"echo '{evil}'; echo '<b>bold?</b>'; sleep 300", name="<i>n</i>")
    open_page(page, daemon)
    expect(page.get_by_test_id(f"process-row-{process_id}")).to_contain_text("<i>n</i>")
    open_process(page, daemon, process_id)
    line = page.get_by_test_id("log-line").filter(has_text=evil)
    expect(line).to_have_count(1)
    expect(line.locator(".text")).to_have_text(evil)
    assert page.locator("main img, main b, main i").count() == 0
    assert dialogs == []


def test_pause_jump_to_end_and_download(daemon, page):
    process_id = start(daemon, "sh", "-c", 'seq -f "early %g" 1 3000; read go; seq -f "late %g" 1 3000; sleep 300')
    open_process(page, daemon, process_id)
    view = page.get_by_test_id("log-view")
    expect(view.get_by_test_id("log-line").filter(has_text="early 3000")).to_be_visible(timeout=10_000)
    # Scrolling up pauses following; new lines then do not move the view.
    view.evaluate("v => { v.scrollTop = 0; }")
    expect(page.get_by_test_id("log-follow")).not_to_be_checked()
    api_ok(daemon, "POST", f"/api/v1/processes/{process_id}/input", {"data": "go\n"})
    expect(page.get_by_test_id("log-count")).to_have_text("6000 lines", timeout=10_000)
    expect(view.get_by_test_id("log-line").filter(has_text="early 1").first).to_be_visible()
    assert view.evaluate("v => v.scrollTop") == 0
    page.get_by_test_id("log-end").click()
    expect(view.get_by_test_id("log-line").filter(has_text="late 3000")).to_be_visible()
    expect(page.get_by_test_id("log-follow")).to_be_checked()

    # The download link gives the whole output, as the API has it.
    href = page.get_by_test_id("log-download").get_attribute("href")
    answer = page.request.get(f"{daemon.base}{href}")
    assert answer.ok
    text = answer.text()
    assert text.startswith("early 1\n")
    assert text.endswith("late 3000\n")
    assert text.count("\n") == 6000
