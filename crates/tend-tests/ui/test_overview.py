"""The overview: processes appear and change live, filters, projects and pipelines."""

import time

from playwright.sync_api import expect

from ui_helpers import api_ok, open_page, row, start


def test_cli_process_appears_within_a_second_and_ends_live(daemon, page):
    open_page(page, daemon)
    # Anything the page shows from here on must come without a reload.
    page.evaluate("window.__same_page = true")
    process_id = start(daemon, "sh", "-c", "sleep 2; exit 3", name="ends-soon")
    started = time.monotonic()
    expect(row(page, process_id)).to_be_visible(timeout=5_000)
    appeared = time.monotonic() - started
    assert appeared < 1.0, f"the row appeared after {appeared:.2f} s"
    status = row(page, process_id).get_by_test_id("status")
    expect(status).to_have_text("running")
    expect(row(page, process_id)).to_contain_text("ends-soon")
    expect(status).to_have_text("failed", timeout=10_000)
    expect(row(page, process_id).get_by_test_id("exit")).to_have_text("3")
    assert page.evaluate("window.__same_page === true"), "the page reloaded"


def test_filters_by_name_status_and_label(daemon, page):
    web = start(daemon, "sleep", "300", name="web-1", labels=["tier=front"])
    db = start(daemon, "sleep", "300", name="db-1", labels=["tier=back"])
    done = start(daemon, "true", name="done-1", labels=["tier=back"])
    api_ok(daemon, "POST", f"/api/v1/processes/{done}/wait?timeout=10s")
    open_page(page, daemon)
    for process_id in (web, db, done):
        expect(row(page, process_id)).to_be_visible()

    page.get_by_test_id("filter-name").fill("web")
    expect(row(page, web)).to_be_visible()
    expect(row(page, db)).to_be_hidden()
    expect(row(page, done)).to_be_hidden()

    page.get_by_test_id("filter-name").fill("")
    page.get_by_test_id("filter-status").select_option("exited")
    expect(row(page, done)).to_be_visible()
    expect(row(page, web)).to_be_hidden()

    page.get_by_test_id("filter-status").select_option("")
    page.get_by_test_id("filter-label").fill("tier=back")
    expect(row(page, db)).to_be_visible()
    expect(row(page, done)).to_be_visible()
    expect(row(page, web)).to_be_hidden()


def test_projects_services_and_pipelines_are_listed(daemon, page, tmp_path):
    project = {
        "name": "shop",
        "dir": str(tmp_path),
        "services": {
            "api": {"run": "sleep 300"},
            "worker": {"run": "sleep 300", "after": ["api"]},
        },
    }
    status, body = daemon.api("POST", "/api/v1/projects", project)
    assert status in (200, 201), body
    pipeline = api_ok(daemon, "POST", "/api/v1/pipelines", {
        "steps": [{"name": "build", "command": "true"}],
    })
    open_page(page, daemon)
    box = page.get_by_test_id("project-shop")
    expect(box).to_contain_text("api")
    expect(box).to_contain_text("worker")
    expect(box.get_by_test_id("status").first).to_have_text("running", timeout=10_000)
    pipeline_row = page.get_by_test_id(f"pipeline-row-{pipeline['id']}")
    expect(pipeline_row.get_by_test_id("status")).to_have_text("passed", timeout=10_000)
