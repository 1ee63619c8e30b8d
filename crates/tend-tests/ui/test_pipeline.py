"""The pipeline page: steps in dependency order with their dependencies, live statuses and
durations, the report, cancel."""

from playwright.sync_api import expect

from ui_helpers import api_ok, confirm, open_page, until

# `gate` waits for a file the test creates, so the test sees the steps before and after.
STEPS = [
    {"name": "fetch", "run": "sleep 0.2"},
    {"name": "gate", "run": "while [ ! -e go ]; do sleep 0.05; done", "after": ["fetch"]},
    {"name": "lint", "run": "true", "after": ["fetch"]},
    {"name": "ship", "run": "echo shipped", "after": ["gate", "lint"]},
]


def test_steps_change_status_live_and_show_their_dependencies(daemon, page, tmp_path):
    steps = [dict(step, dir=str(tmp_path)) for step in STEPS]
    pipeline = api_ok(daemon, "POST", "/api/v1/pipelines", {"mode": "dag", "steps": steps})
    open_page(page, daemon, f"#/pipeline/{pipeline['id']}")
    page.evaluate("window.__same_page = true")

    def status(name):
        return page.get_by_test_id(f"pipeline-step-{name}").get_by_test_id("status")

    expect(status("gate")).to_have_text("running", timeout=10_000)
    expect(status("lint")).to_have_text("passed")
    expect(status("ship")).to_have_text("pending")
    # The table is in dependency order and names each step's dependencies.
    order = page.locator("[data-testid^=pipeline-step-]").evaluate_all(
        "rows => rows.map(r => r.dataset.testid.replace('pipeline-step-', ''))")
    assert order == ["fetch", "gate", "lint", "ship"], order
    expect(page.get_by_test_id("pipeline-step-ship").get_by_test_id("after")).to_have_text("gate, lint")
    expect(page.get_by_test_id("pipeline-step-gate").get_by_test_id("after")).to_have_text("fetch")
    expect(page.get_by_test_id("pipeline-step-fetch").get_by_test_id("duration")).not_to_have_text("")

    (tmp_path / "go").touch()
    expect(status("gate")).to_have_text("passed", timeout=10_000)
    expect(status("ship")).to_have_text("passed", timeout=10_000)
    expect(page.get_by_test_id("pipeline-status")).to_have_text("passed")
    report = page.get_by_test_id("pipeline-report")
    expect(report).to_be_visible()
    report.get_by_text("ship: passed").click()
    expect(report).to_contain_text("shipped")
    assert page.evaluate("window.__same_page === true"), "the page reloaded"


def test_cancel_stops_a_running_pipeline(daemon, page):
    pipeline = api_ok(daemon, "POST", "/api/v1/pipelines", {
        "steps": [{"name": "forever", "run": "sleep 300"}],
    })
    open_page(page, daemon, f"#/pipeline/{pipeline['id']}")
    step = page.get_by_test_id("pipeline-step-forever").get_by_test_id("status")
    expect(step).to_have_text("running", timeout=10_000)
    page.get_by_test_id("action-cancel").click()
    confirm(page)
    state = until(lambda: (s := api_ok(daemon, "GET", f"/api/v1/pipelines/{pipeline['id']}"))["status"] != "running" and s,
                  what="the cancel")
    assert state["status"] == "cancelled"
    expect(page.get_by_test_id("pipeline-status")).to_have_text("cancelled", timeout=10_000)
    expect(step).to_have_text("cancelled")
