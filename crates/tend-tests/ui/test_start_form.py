"""The start form and the apply-a-project form, with the API's errors beside the inputs."""

import re

from playwright.sync_api import expect

from ui_helpers import api_ok, expect_refusals_logged, info, open_page, until


def test_start_a_process_from_the_form(daemon, page, tmp_path):
    open_page(page, daemon, "#/start")
    form = page.get_by_test_id("start-form")
    form.get_by_test_id("start-command").fill("sh")
    form.get_by_test_id("start-args").fill('-c\necho "dir=$PWD greeting=$GREETING"; sleep 300')
    form.get_by_test_id("start-dir").fill(str(tmp_path))
    form.get_by_test_id("start-env").fill("GREETING=hello")
    form.get_by_test_id("start-name").fill("from-form")
    form.get_by_test_id("start-labels").fill("team=ui\nkind=test")
    form.get_by_test_id("start-restart").select_option("on_failure")
    form.get_by_test_id("start-submit").click()
    expect(page).to_have_url(re.compile(r"#/process/"))
    process_id = page.url.split("#/process/")[1]
    started = info(daemon, process_id)
    assert started["name"] == "from-form"
    assert started["labels"] == {"team": "ui", "kind": "test"}
    assert started["dir"] == str(tmp_path)
    expect(page.get_by_test_id("log-line").filter(has_text=f"dir={tmp_path} greeting=hello")).to_be_visible()


def test_a_script_and_the_api_error_beside_its_input(daemon, page, page_problems):
    open_page(page, daemon, "#/start")
    form = page.get_by_test_id("start-form")
    # Both a command and a script: the API refuses, naming one of them.
    form.get_by_test_id("start-command").fill("sleep")
    form.get_by_test_id("start-run").fill("echo from-script")
    form.get_by_test_id("start-submit").click()
    error = form.get_by_test_id("form-error").locator("visible=true")
    expect(error).to_have_count(1)
    status, body = daemon.api("POST", "/api/v1/processes", {"command": "sleep", "run": "echo from-script"})
    assert status == 400
    expect(error).to_have_text(body["error"]["message"])
    # Next to the field: inside the field's label.
    assert error.evaluate("e => e.closest('.field') !== null")
    expect_refusals_logged(page_problems, 400)

    form.get_by_test_id("start-command").fill("")
    form.get_by_test_id("start-labels").fill("no-equals-sign")
    form.get_by_test_id("start-submit").click()
    expect(form.get_by_test_id("form-error").locator("visible=true")).to_contain_text("no-equals-sign")

    form.get_by_test_id("start-labels").fill("")
    form.get_by_test_id("start-submit").click()
    expect(page).to_have_url(re.compile(r"#/process/"))
    expect(page.get_by_test_id("log-line").filter(has_text="from-script")).to_be_visible()


TOML = """
[services.web]
run = "sleep 300"

[services.cache]
run = "sleep 300"
"""


def test_apply_a_project_from_pasted_toml(daemon, page, page_problems, tmp_path):
    open_page(page, daemon, "#/start")
    form = page.get_by_test_id("apply-form")
    form.get_by_test_id("apply-name").fill("pasted")
    form.get_by_test_id("apply-dir").fill(str(tmp_path))
    form.get_by_test_id("apply-toml").fill("[services.web]\nrun = \n")
    form.get_by_test_id("apply-submit").click()
    error = form.get_by_test_id("form-error").locator("visible=true")
    expect(error).to_have_count(1)
    # The loader names the line (and column) of the mistake.
    expect(error).to_contain_text("tend.toml:2:")
    assert error.evaluate("e => e.parentNode.querySelector('textarea') !== null")
    assert daemon.api("GET", "/api/v1/projects/pasted")[0] == 404
    expect_refusals_logged(page_problems, 400)

    form.get_by_test_id("apply-toml").fill(TOML)
    form.get_by_test_id("apply-submit").click()
    expect(form.get_by_test_id("apply-result")).to_contain_text("Project pasted created")
    expect(error).to_have_count(0)
    project = until(lambda: api_ok(daemon, "GET", "/api/v1/projects/pasted"), what="the project")
    assert sorted(s["name"] for s in project["services"]) == ["cache", "web"]
    page.goto(f"{daemon.base}/ui/#/")
    expect(page.get_by_test_id("project-pasted")).to_contain_text("web")
