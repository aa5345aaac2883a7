"""Sandboxes in the UI, in a real browser against the real server: a project's sandbox
settings, an attempt's override from the task panel, and the Processes tab's provider, live
resource use, peak memory and limit badges."""

from __future__ import annotations

import os
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Locator, Page, expect

from paddock.domain.entities import Process
from paddock.domain.errors import InvalidInput
from paddock.domain.sandbox import Limits, Network, Provider, SandboxConfig
from paddock.domain.states import ProcessStatus, RunReason
from paddock.web.ui.present import megabytes, percent
from paddock.web.ui.sandbox_views import limit_hit, limit_label, sandbox_from_form
from tests.e2e.server import ServerProcess, wait_for
from tests.e2e.test_attempt_flow import agent_process
from tests.ui.conftest import attempt_in_panel, screenshot
from tests.ui.test_board import (
    DOCS_IMAGES,
    add_task,
    card,
    new_project,
    open_board,
    page_expecting_errors,
)
from tests.ui.test_logs_tab import gated

MEMORY_BOMB = 'python3 -c "x = bytearray(512 << 20)"'
MiB = 1 << 20


def provider(page: Page, name: str):
    """The radio button of a sandbox provider (its label also says whether it works here)."""
    return page.get_by_role("radio", name=re.compile(rf"^{re.escape(name)}\b"))


def limit(where: Page | Locator, name: str) -> Locator:
    """A limit's field, by the start of its label ("Memory" is "Memory (MB)")."""
    return where.get_by_role("spinbutton", name=re.compile(rf"^{re.escape(name)} \("))


def start_sandboxed(
    server: ServerProcess, project: dict[str, Any], title: str, command: str, sandbox: dict
) -> dict[str, Any]:
    """An attempt of the script agent in `sandbox`; skipped where that sandbox cannot run."""
    task = add_task(server, project, title)
    response = server.client.post(
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"profile": "script", "command": command}, "sandbox": sandbox},
    )
    if response.status_code == 422 and response.json()["code"] == "sandbox_unavailable":
        pytest.skip(response.json()["message"])
    assert response.status_code < 400, response.text
    attempt: dict[str, Any] = response.json()
    return attempt


def open_processes_tab(page: Page, server: ServerProcess, attempt: dict[str, Any]) -> None:
    server.open(page, f"/attempts/{attempt['id']}")
    page.get_by_role("tab", name="Processes").click()
    expect(page.get_by_role("tabpanel", name="Processes")).to_be_visible()


def test_project_settings_set_the_sandbox(server: ServerProcess, repo: Path, page: Page):
    project = new_project(server, repo)
    server.open(page, f"/projects/{project['id']}/settings")
    # Every provider says whether it works on this machine (and why not when it does not).
    expect(provider(page, "auto")).to_be_checked()
    expect(provider(page, "none")).to_have_accessible_name(re.compile("✓ works here"))
    for name in ("bwrap", "container"):
        expect(provider(page, name)).to_have_accessible_name(
            re.compile("✓ works here|✗ not available here: .+")
        )
    expect(page.locator("#project-sandbox")).to_contain_text(
        "needed for agents that call a model API"
    )
    # Blank limits inherit the server's defaults, which the placeholders show.
    expect(limit(page, "Memory")).to_have_attribute("placeholder", "8192")
    expect(limit(page, "CPUs")).to_have_attribute("placeholder", "no limit")
    expect(page.get_by_label("Container image")).to_have_attribute(
        "placeholder", "paddock-base:bookworm"
    )

    provider(page, "bwrap").check()
    page.get_by_label("Network").select_option("none")
    limit(page, "Memory").fill("256")
    limit(page, "CPUs").fill("1.5")
    limit(page, "Processes").fill("128")
    limit(page, "Time limit").fill("600")
    page.get_by_label("Container image").fill("debian:12")
    page.get_by_role("button", name="Save").click()
    expect(page.locator("#settings-saved")).to_have_text("Saved")

    saved = server.api("GET", f"/api/projects/{project['id']}")["sandbox"]
    assert saved["provider"] == "bwrap" and saved["network"] == "none"
    assert saved["image"] == "debian:12"
    limits = {k: v for k, v in saved["limits"].items() if v is not None}
    assert limits == {"memory_mb": 256, "cpus": 1.5, "pids": 128, "timeout_s": 600}

    page.reload()
    expect(provider(page, "bwrap")).to_be_checked()
    expect(page.get_by_label("Network")).to_have_value("none")
    expect(limit(page, "Memory")).to_have_value("256")
    expect(limit(page, "Swap")).to_have_value("")
    expect(limit(page, "Time limit")).to_have_value("600")
    expect(page.get_by_label("Container image")).to_have_value("debian:12")


def test_a_refused_sandbox_value_is_shown_at_its_field(
    server: ServerProcess, repo: Path, browser: Browser
):
    project = new_project(server, repo)
    body = {"sandbox": {"provider": "bwrap", "limits": {"memory_mb": 256}}}
    server.api("PATCH", f"/api/projects/{project['id']}", json=body)
    with page_expecting_errors(browser) as page:  # the refused save answers 422
        server.open(page, f"/projects/{project['id']}/settings")
        # A value the API refuses is refused here too, in the form, at its field.
        memory = limit(page, "Memory")
        memory.fill("8")
        page.get_by_role("button", name="Save").click()
        error = page.locator("#project-settings > .form-error")
        expect(error).to_have_text("Memory (MB): must be at least 16")
        expect(error).to_have_attribute("data-code", "bad_sandbox")
        expect(memory).to_have_attribute("aria-invalid", "true")
        expect(memory).to_be_focused()
        kept = server.api("GET", f"/api/projects/{project['id']}")["sandbox"]
        assert kept["limits"]["memory_mb"] == 256

        # Back to the server's defaults: auto, blank fields.
        provider(page, "auto").check()
        memory.fill("")
        page.get_by_role("button", name="Save").click()
        expect(page.locator("#settings-saved")).to_have_text("Saved")
        expect(error).to_be_empty()
        expect(memory).not_to_have_attribute("aria-invalid", "true")
        cleared = server.api("GET", f"/api/projects/{project['id']}")["sandbox"]
        assert cleared["provider"] is None and cleared["network"] is None
        assert all(v is None for v in cleared["limits"].values())


def test_an_attempt_from_the_panel_gets_its_sandbox_override(
    server: ServerProcess, repo: Path, page: Page
):
    project = new_project(server, repo)
    server.api(
        "PATCH",
        f"/api/projects/{project['id']}",
        json={"sandbox": {"network": "host", "limits": {"memory_mb": 512, "pids": 256}}},
    )
    task = add_task(server, project, "Try it in a tight box")
    open_board(page, server, project)
    card(page, task).click()
    panel = page.locator("#panel")
    panel.get_by_label("Agent", exact=True).select_option(label="Shell script")
    panel.get_by_label("Command").fill("echo boxed")

    # Collapsed by default; its blank fields show what the project gives.
    memory = limit(panel, "Memory")
    expect(memory).to_be_hidden()
    panel.locator("summary", has_text="Sandbox").click()
    expect(memory).to_be_visible()
    expect(memory).to_have_attribute("placeholder", "512")
    expect(limit(panel, "Processes")).to_have_attribute("placeholder", "256")
    expect(provider(page, "project's choice")).to_be_checked()
    expect(panel.get_by_label("Network")).to_have_value("")

    provider(page, "none").check()
    panel.get_by_label("Network").select_option("none")
    memory.fill("128")
    limit(panel, "Time limit").fill("300")
    panel.get_by_role("button", name="Start attempt").click()

    attempt = server.api("GET", f"/api/attempts/{attempt_in_panel(page)}")
    sandbox = attempt["sandbox"]
    assert sandbox["provider"] == "none" and sandbox["network"] == "none"
    limits = {k: v for k, v in sandbox["limits"].items() if v is not None}
    # The attempt's fields over the project's.
    assert limits == {"memory_mb": 128, "pids": 256, "timeout_s": 300}

    # The header says what the attempt runs in: a plain process group holds only the time limit.
    header = page.locator("#attempt-sandbox")
    expect(header.locator(".badge")).to_have_text("none")
    expect(header).to_contain_text("network none")
    expect(header).to_contain_text("time limit 5 min")
    expect(header).to_contain_text("only the time limit holds")
    expect(header).not_to_contain_text("memory")
    expect(page.locator("#attempt-status")).to_have_text("awaiting review", timeout=30_000)
    page.get_by_role("tab", name="Processes").click()
    row = page.locator("#process-rows tr[data-process-id]").first
    expect(row.locator(".badge.provider")).to_have_text("none")


def test_a_memory_bomb_shows_out_of_memory_in_the_processes_tab(
    server: ServerProcess, repo: Path, page: Page
):
    project = new_project(server, repo)
    sandbox = {"provider": "bwrap", "limits": {"memory_mb": 64}}
    attempt = start_sandboxed(server, project, "Allocate half a gigabyte", MEMORY_BOMB, sandbox)
    proc = agent_process(server, attempt["id"])
    ended = wait_for(
        lambda: (p := server.api("GET", f"/api/processes/{proc['id']}"))["finished_at"] and p
    )
    if ended["failure"] is None:
        pytest.skip(f"memory limits are not enforced here: {ended['error']}")
    assert ended["failure"] == "oom_killed"

    open_processes_tab(page, server, attempt)
    row = page.locator(f'#process-rows tr[data-process-id="{proc["id"]}"]')
    expect(row.locator(".badge.limit-hit")).to_have_text("out of memory (limit 64 MB)")
    expect(row.locator(".badge.limit-hit")).to_have_css("background-color", re.compile("rgb"))
    expect(row.locator(".badge.status-failed")).to_have_text("failed")
    expect(row.locator(".badge.provider")).to_have_text("bwrap")
    # Its peak, from its last sample: the limit it hit.
    peak = row.locator(".usage.ended")
    expect(peak).to_have_text(re.compile(r"^peak \d+(\.\d)? MB$"))
    assert int(peak.get_attribute("data-peak-bytes") or 0) >= 32 * MiB
    expect(page.locator("#attempt-sandbox")).to_contain_text("memory 64 MB")

    # The Logs tab's process list says it too, instead of a bare "failed".
    page.get_by_role("tab", name="Logs").click()
    pick = page.locator(f'.process-pick[data-process-id="{proc["id"]}"]')
    expect(pick.locator(".badge.limit-hit")).to_have_text("out of memory")
    expect(pick.locator(".badge.limit-hit")).to_have_attribute(
        "title", "out of memory (limit 64 MB)"
    )
    expect(pick.locator(".badge.status-failed")).to_have_count(0)


def test_a_running_process_shows_live_resource_use(server: ServerProcess, repo: Path, page: Page):
    gated(repo)
    project = new_project(server, repo, name="acme-shop")
    server.api(
        "PATCH",
        f"/api/projects/{project['id']}",
        json={"scripts": {"setup": 'python3 -c "x = bytearray(24 << 20)"'}},
    )
    # Small until the gate opens, then ~48 MB held while it sleeps.
    command = (
        "while [ ! -f GO ]; do sleep 0.1; done; "
        'python3 -c "import time; x = bytearray(48 << 20); time.sleep(600)"'
    )
    sandbox = {"provider": "bwrap", "network": "none", "limits": {"memory_mb": 256, "pids": 128}}
    attempt = start_sandboxed(server, project, "Warm the search cache", command, sandbox)
    proc = agent_process(server, attempt["id"])
    wait_for(lambda: server.api("GET", f"/api/processes/{proc['id']}")["status"] == "running")

    open_processes_tab(page, server, attempt)
    page.evaluate("window.__samePage = true")  # gone if the page were reloaded
    usage = page.locator(f"#usage-row-{proc['id']}")
    expect(usage).to_be_visible()
    gate = Path(attempt["worktree_path"]) / "GO"
    gate.touch()

    # The figures follow the process without a reload: its memory passes 40 MB.
    page.wait_for_function(
        "(id) => Number(document.getElementById(id)?.dataset.memoryBytes || 0) > 40 * 2 ** 20",
        arg=f"usage-row-{proc['id']}",
    )
    expect(usage).to_have_text(re.compile(r"^CPU \d+(\.\d)?% · \d+(\.\d)? MB · \d+ proc$"))
    assert page.evaluate("window.__samePage") is True
    row = page.locator(f'#process-rows tr[data-process-id="{proc["id"]}"]')
    expect(row.locator(".badge.status-running")).to_have_text("running")
    expect(row.locator(".badge.provider")).to_have_text("bwrap")
    # The setup script ended: its peak stays.
    setup = page.locator("#process-rows tr", has_text="setup")
    expect(setup.locator(".usage.ended")).to_have_text(re.compile(r"^peak \d+(\.\d)? MB$"))
    header = page.locator("#attempt-sandbox")
    expect(header).to_contain_text("network none")
    expect(header).to_contain_text("memory 256 MB")
    expect(header).to_contain_text("128 processes")

    # The Logs tab's list shows the same figures, live as well.
    listed = page.locator(f"#usage-list-{proc['id']}")
    page.wait_for_function(
        "(id) => Number(document.getElementById(id)?.dataset.memoryBytes || 0) > 40 * 2 ** 20",
        arg=f"usage-list-{proc['id']}",
    )
    expect(listed).to_have_text(re.compile(r"^CPU \d+(\.\d)?% · \d+(\.\d)? MB$"))

    path = screenshot(page, "processes-tab")
    if os.environ.get("PADDOCK_UPDATE_DOCS_SCREENSHOTS") == "1":
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, DOCS_IMAGES / "processes-tab.png")
    server.api("POST", f"/api/attempts/{attempt['id']}/stop")
    expect(row.locator(".usage.ended")).to_have_text(re.compile(r"^peak \d+(\.\d)? MB$"))


# --- the pure helpers (no browser) -----------------------------------------------------------


def ended_process(failure: str | None, error: str | None) -> Process:
    now = datetime.now(UTC)
    return Process(
        id="p1",
        attempt_id="a1",
        reason=RunReason.agent,
        command=["true"],
        status=ProcessStatus.failed,
        pid=None,
        pid_start_time=None,
        exit_code=137,
        error=error,
        debug_id=None,
        line_count=0,
        created_at=now,
        started_at=now,
        finished_at=now,
        provider="bwrap",
        failure=failure,
    )


def test_a_limit_hit_reads_as_what_happened() -> None:
    cases = {
        ("oom_killed", "killed: out of memory (limit 64 MB)"): "out of memory (limit 64 MB)",
        ("pids_limit", "stopped: too many processes (limit 64)"): "too many processes (limit 64)",
        ("timeout", "stopped: ran past its time limit (1 s)"): "timed out (limit 1 s)",
        ("oom_killed", None): "out of memory",
        (None, "exited with code 1"): "",
    }
    for (failure, error), expected in cases.items():
        proc = ended_process(failure, error)
        assert limit_hit(proc) == expected
        assert limit_label(proc) == expected.split(" (")[0]


def test_memory_and_cpu_figures() -> None:
    assert megabytes(48 * MiB + MiB // 5) == "48.2 MB"
    assert megabytes(512 * MiB) == "512 MB"
    assert megabytes(1536 * MiB) == "1.5 GB"
    assert megabytes(None) == ""
    assert percent(3.14) == "3.1%" and percent(153.4) == "153%"


def test_the_form_reads_the_sandbox_as_the_api_does() -> None:
    assert sandbox_from_form({}).to_config() == SandboxConfig()
    blank = {"sandbox_provider": "auto", "sandbox_network": "", "sandbox_memory_mb": " "}
    assert sandbox_from_form(blank).to_config() == SandboxConfig()
    chosen = sandbox_from_form(
        {
            "sandbox_provider": "bwrap",
            "sandbox_network": "none",
            "sandbox_memory_mb": "64",
            "sandbox_cpus": "1.5",
            "sandbox_timeout_s": "30",
            "sandbox_image": "debian:12",
        },
        image=True,
    ).to_config()
    assert chosen == SandboxConfig(
        Provider.bwrap, Network.none, Limits(memory_mb=64, cpus=1.5, timeout_s=30), "debian:12"
    )
    refused = {
        "sandbox_memory_mb": ("8", "Memory (MB): must be at least 16"),
        "sandbox_pids": ("12.5", "Processes (at once): must be a whole number"),
        "sandbox_cpus": ("0", "CPUs (cores): must be at least 0.01"),
        "sandbox_network": ("wifi", "Network: "),
    }
    for field, (value, message) in refused.items():
        with pytest.raises(InvalidInput) as caught:
            sandbox_from_form({field: value})
        assert caught.value.message.startswith(message)
        assert caught.value.details["field"] == field
