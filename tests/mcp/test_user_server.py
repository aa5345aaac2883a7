"""The user's MCP server through the SDK's own client: over HTTP at /mcp of a real server, and
over stdio through `paddock mcp`; each tool's effect seen through the REST API."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import anyio
import httpx2
import pytest
from mcp import Client, MCPError, StdioServerParameters
from mcp.client.streamable_http import streamable_http_client
from mcp_types.version import LATEST_HANDSHAKE_VERSION, LATEST_MODERN_VERSION

from paddock.mcp.tools import TOOLS
from tests.e2e.server import ServerProcess, free_port, make_repo, wait_for


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    with ServerProcess(tmp_path_factory.mktemp("mcp") / "data") as srv:
        yield srv


@pytest.fixture(scope="module")
def project(server: ServerProcess, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    repo = make_repo(tmp_path_factory.mktemp("mcp-repo") / "repo")
    created: dict[str, Any] = server.api("POST", "/api/projects", json={"path": str(repo)})
    return created


@asynccontextmanager
async def over_http(server: ServerProcess, **options: Any) -> AsyncIterator[Client]:
    http = httpx2.AsyncClient(headers=server.auth, timeout=httpx2.Timeout(30, read=60))
    async with (
        http,
        Client(streamable_http_client(f"{server.url}/mcp", http_client=http), **options) as client,
    ):
        yield client


async def call(client: Client, name: str, **arguments: Any) -> Any:
    result = await client.call_tool(name, arguments)
    assert not result.is_error, result.content
    return json.loads(result.content[0].text)  # type: ignore[union-attr]


async def refused(client: Client, name: str, **arguments: Any) -> dict[str, Any]:
    result = await client.call_tool(name, arguments)
    assert result.is_error, result.content
    body: dict[str, Any] = json.loads(result.content[0].text)  # type: ignore[union-attr]
    assert body == result.structured_content
    return body


def test_every_tool_over_http_acts_as_the_api(  # noqa: PLR0915  (one story, every tool)
    server: ServerProcess, project: dict[str, Any]
) -> None:
    async def scenario() -> None:  # noqa: PLR0915
        async with over_http(server) as client:
            listed = {tool.name: tool for tool in (await client.list_tools()).tools}
            assert set(listed) == set(TOOLS)
            # The API's input model, path ids included: start_attempt needs task_id and agent.
            assert set(listed["start_attempt"].input_schema["required"]) == {"task_id", "agent"}
            called = set()

            async def use(name: str, **arguments: Any) -> Any:
                called.add(name)
                return await call(client, name, **arguments)

            assert project["id"] in [p["id"] for p in await use("list_projects")]
            assert await use("get_project", project_id=project["id"]) == project
            steps = await use("list_steps", project_id=project["id"])
            task = await use("create_task", project_id=project["id"], title="  From MCP  ")
            assert task["title"] == "From MCP"  # the API's whitespace rule
            assert server.api("GET", f"/api/tasks/{task['id']}")["title"] == "From MCP"
            await use("update_task", task_id=task["id"], description="planned by an agent")
            assert server.api("GET", f"/api/tasks/{task['id']}")["description"] == (
                "planned by an agent"
            )
            moved = await use("move_task", task_id=task["id"], step_id=steps[1]["id"])
            assert moved["step_id"] == steps[1]["id"]
            assert task["id"] in [
                t["id"] for t in await use("list_tasks", project_id=project["id"])
            ]
            assert (await use("get_task", task_id=task["id"]))["step_id"] == steps[1]["id"]

            attempt = await use(
                "start_attempt",
                task_id=task["id"],
                # Its first turn prints; a turn asked to "sleep 30" keeps the agent busy (the
                # command runs at every turn: the prompt alone would change nothing).
                agent={
                    "profile": "script",
                    "command": 'echo hello-from-mcp; [ "$PADDOCK_PROMPT" = "sleep 30" ] && sleep 30'
                    "; true",
                },
                sandbox={"provider": "none"},
            )
            assert [a["id"] for a in server.api("GET", f"/api/tasks/{task['id']}/attempts")] == [
                attempt["id"]
            ]

            async def settled() -> dict[str, Any]:
                with anyio.fail_after(60):
                    while True:
                        current = await use("get_attempt", attempt_id=attempt["id"])
                        if current["status"] == "awaiting_review":
                            return current  # type: ignore[no-any-return]
                        await anyio.sleep(0.1)

            await settled()
            tail = await use("read_log_tail", attempt_id=attempt["id"], lines=50)
            assert "hello-from-mcp" in [line["text"] for line in tail["lines"]]
            processes = await use("list_processes", attempt_id=attempt["id"])
            assert tail["process"]["id"] == processes[-1]["id"]
            assert (await use("get_process", process_id=processes[-1]["id"]))["exit_code"] == 0
            assert (await use("get_diff_summary", attempt_id=attempt["id"]))["files"] == []
            assert await use("list_test_runs", attempt_id=attempt["id"]) == []
            assert await use("list_previews", attempt_id=attempt["id"]) == []
            assert [a["id"] for a in await use("list_attempts", task_id=task["id"])] == [
                attempt["id"]
            ]
            assert (await refused(client, "get_test_run", run_id="0" * 32))["code"].endswith(
                "not_found"
            )
            called.add("get_test_run")

            # A follow-up that keeps the agent busy: the merge is refused as the API does.
            follow_up = await use("send_follow_up", attempt_id=attempt["id"], prompt="sleep 30")
            assert follow_up["prompt"] == "sleep 30"
            wait_for(
                lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "running"
            )
            busy = await refused(client, "merge_attempt", attempt_id=attempt["id"])
            rest = server.client.post(f"/api/attempts/{attempt['id']}/merge", json={})
            assert busy["code"] == rest.json()["code"] == "attempt_busy"
            called.add("merge_attempt")
            stopped = await use("stop_attempt", attempt_id=attempt["id"])
            assert stopped["id"] == attempt["id"]
            for name in ("accept_task", "dismiss_task"):  # a task the user made: refused
                assert (await refused(client, name, task_id=task["id"]))["code"] == "not_proposed"
                called.add(name)
            await use("delete_task", task_id=task["id"])
            assert server.client.get(f"/api/tasks/{task['id']}").status_code == 404
            assert called == set(TOOLS)

    anyio.run(scenario)


def test_failures_carry_the_api_codes(server: ServerProcess, project: dict[str, Any]) -> None:
    async def scenario() -> None:
        async with over_http(server) as client:
            missing = await refused(client, "get_task", task_id="0" * 32)
            rest = server.client.get(f"/api/tasks/{'0' * 32}").json()
            assert missing == rest  # the same code and message
            blank = await refused(client, "create_task", project_id=project["id"], title="   ")
            assert blank["code"] == "bad_title"
            invalid = await refused(client, "create_task", title="no project")
            assert invalid["code"] == "validation_error"
            assert invalid["details"][0]["location"] == "project_id"
            # Strict as the API: "yes" is not a boolean.
            strict = await refused(client, "list_processes", attempt_id="x", include_dropped="yes")
            assert strict["code"] == "validation_error"
            no_command = await refused(
                client,
                "start_attempt",
                task_id=(await call(client, "create_task", project_id=project["id"], title="t"))[
                    "id"
                ],
                agent={"profile": "script"},
            )
            assert no_command["code"] == "agent_command_missing"
            assert (await refused(client, "no_such_tool"))["code"] == "unknown_tool"

    anyio.run(scenario)


# Handshake-era subscriptions on purpose: what today's desktop agents speak.
@pytest.mark.filterwarnings("ignore:resources/subscribe is removed")
def test_task_resources_read_and_notify(server: ServerProcess, project: dict[str, Any]) -> None:
    updated: list[str] = []
    changed = anyio.Event()

    async def on_message(message: Any) -> None:
        root = getattr(message, "root", message)
        if getattr(root, "method", None) == "notifications/resources/updated":
            updated.append(root.params.uri)
            changed.set()

    async def scenario() -> None:
        task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "watched"})
        uri = f"paddock://tasks/{task['id']}"
        async with over_http(server, mode="legacy", message_handler=on_message) as client:
            templates = (await client.list_resource_templates()).resource_templates
            assert {t.uri_template for t in templates} == {
                "paddock://tasks/{task_id}",
                "paddock://attempts/{attempt_id}",
            }
            read = await client.read_resource(uri)
            assert json.loads(read.contents[0].text)["title"] == "watched"  # type: ignore[union-attr]
            await client.subscribe_resource(uri)
            server.api("PATCH", f"/api/tasks/{task['id']}", json={"title": "renamed"})
            with anyio.fail_after(20):
                await changed.wait()
            assert updated[0] == uri
            again = await client.read_resource(uri)
            assert json.loads(again.contents[0].text)["title"] == "renamed"  # type: ignore[union-attr]

    anyio.run(scenario)


def test_a_2026_client_listens_to_an_attempt(
    server: ServerProcess, project: dict[str, Any]
) -> None:
    """The 2026 wire has no resources/subscribe: a `subscriptions/listen` stream naming the URI
    gets its updates."""

    async def scenario() -> None:
        task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "run"})
        async with over_http(server) as client:
            assert client.protocol_version == LATEST_MODERN_VERSION
            attempt = await call(
                client,
                "start_attempt",
                task_id=task["id"],
                agent={"profile": "script", "command": "sleep 30"},
                sandbox={"provider": "none"},
            )
            uri = f"paddock://attempts/{attempt['id']}"
            read = await client.read_resource(uri)
            assert json.loads(read.contents[0].text)["id"] == attempt["id"]  # type: ignore[union-attr]
            async with client.listen(resource_subscriptions=[uri]) as events:
                server.api("POST", f"/api/attempts/{attempt['id']}/stop")
                with anyio.fail_after(20):
                    event = await events.__anext__()
            assert getattr(event, "uri", None) == uri
            with pytest.raises(MCPError) as missing:
                await client.read_resource("paddock://attempts/" + "0" * 32)
            refusal = missing.value.error
            assert refusal.data == {"code": "attempt_not_found", "message": refusal.message}

    anyio.run(scenario)


def _stdio(server: ServerProcess, url: str | None = None) -> StdioServerParameters:
    return StdioServerParameters(
        command=sys.executable,
        args=["-m", "paddock", "mcp"],
        env={
            "PADDOCK_DATA_DIR": str(server.data_dir),  # where the CLI finds the token
            "PADDOCK_URL": url or server.url,
            "PATH": os.environ["PATH"],
        },
    )


def test_paddock_mcp_over_stdio_relays_as_the_user(
    server: ServerProcess, project: dict[str, Any]
) -> None:
    async def scenario() -> None:
        for mode in ("legacy", "auto"):
            async with Client(_stdio(server), mode=mode) as client:
                # Both eras pass the relay: the handshake, and 2026's per-request headers.
                expected = LATEST_HANDSHAKE_VERSION if mode == "legacy" else LATEST_MODERN_VERSION
                assert client.protocol_version == expected
                names = {tool.name for tool in (await client.list_tools()).tools}
                assert names == set(TOOLS)
                task = await call(
                    client, "create_task", project_id=project["id"], title=f"over stdio {mode}"
                )
                assert server.api("GET", f"/api/tasks/{task['id']}")["title"] == (
                    f"over stdio {mode}"
                )
                missing = await refused(client, "get_attempt", attempt_id="0" * 32)
                assert missing["code"] == "attempt_not_found"

    anyio.run(scenario)


def test_paddock_mcp_without_a_server_says_so(server: ServerProcess, tmp_path: Path) -> None:
    params = _stdio(server, url=f"http://127.0.0.1:{free_port()}")
    done = subprocess.run(
        [params.command, *params.args],
        env={**os.environ, **(params.env or {})},
        input=b"",
        check=False,
        capture_output=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert b"no Paddock server at" in done.stderr and done.stdout == b""
