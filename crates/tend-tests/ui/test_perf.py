"""Performance goals of the UI, measured in the browser (figures printed for BENCHMARKS.md):
first paint of the overview with 1,000 processes under 1 s; an input handler under 50 ms
while a process prints 10,000 lines/s into the open log view."""

import json
import time

from playwright.sync_api import expect

from ui_helpers import api_ok, open_page, start, until

PROCESSES = 1000


def report(name, value):
    print(f"\nUI-BENCH {name}: {json.dumps(value)}")


def test_overview_first_paint_with_a_thousand_processes(daemon, page):
    # Most have ended (the daemon keeps 1,000 finished by default); some run.
    for n in range(PROCESSES):
        command = ["sleep", "300"] if n % 20 == 0 else ["true"]
        api_ok(daemon, "POST", "/api/v1/processes", {"command": command[0], "args": command[1:], "name": f"p{n}"})
    until(lambda: len(api_ok(daemon, "GET", "/api/v1/processes")) == PROCESSES, what="the processes")
    page.goto(f"{daemon.base}/ui/")
    rows = page.locator("[data-testid^=process-row-]")
    expect(rows).to_have_count(PROCESSES, timeout=20_000)
    # The page marks when its first full draw reached the screen (a frame after it).
    page.wait_for_function("() => performance.getEntriesByName('tend:overview-painted').length > 0")
    figures = page.evaluate("""() => ({
        painted_ms: performance.getEntriesByName('tend:overview-painted')[0].startTime,
        first_contentful_paint_ms: (performance.getEntriesByName('first-contentful-paint')[0] || {}).startTime,
        dom_content_loaded_ms: performance.getEntriesByType('navigation')[0].domContentLoadedEventEnd,
    })""")
    report("overview-1000-processes", figures)
    # Goal 1 s; the bound allows for a machine loaded by parallel builds.
    assert figures["painted_ms"] < 3000, figures


def test_input_stays_responsive_while_a_process_prints_10000_lines_per_second(daemon, page):
    # About 10,000 lines a second (100 lines every 10 ms) for up to a minute.
    script = 'i=0; while [ $i -lt 6000 ]; do seq -f "burst $i line %g" 1 100; i=$((i+1)); sleep 0.01; done; sleep 300'
    process_id = start(daemon, "sh", "-c", script)
    open_page(page, daemon, f"#/process/{process_id}")
    count = page.get_by_test_id("log-count")
    shown = lambda: int((count.text_content() or "0").split()[0])  # noqa: E731
    until(lambda: shown() >= 5000, timeout=30, what="the output streaming in")
    page.evaluate("""() => {
        window.__events = [];
        new PerformanceObserver(list => { for (const e of list.getEntries()) window.__events.push(e); })
            .observe({ type: 'event', durationThreshold: 16 });
    }""")
    field = page.get_by_test_id("input-line")
    field.click()
    text = "typing while the log streams"
    started, before = time.monotonic(), shown()
    field.press_sequentially(text, delay=50)
    elapsed, after = time.monotonic() - started, shown()
    expect(field).to_have_value(text)
    page.wait_for_timeout(300)
    figures = page.evaluate("""() => {
        const keys = window.__events.filter(e => ['keydown', 'keypress', 'keyup', 'input', 'beforeinput'].includes(e.name));
        return {
            events_over_16ms: keys.length,
            max_duration_ms: Math.max(0, ...keys.map(e => e.duration)),
            max_handler_ms: Math.max(0, ...keys.map(e => e.processingEnd - e.processingStart)),
        };
    }""")
    figures["typing_s"] = round(elapsed, 2)
    figures["lines_per_s_taken_in"] = round((after - before) / elapsed)
    report("input-while-streaming", figures)
    # It really streamed meanwhile.
    assert after - before > 1000, figures
    # Goal: handlers under 50 ms (Event Timing reports only events over 16 ms); the bounds
    # allow for a machine loaded by parallel builds.
    assert figures["max_handler_ms"] < 100, figures
    assert figures["max_duration_ms"] < 500, figures
