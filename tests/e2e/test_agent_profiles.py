"""Agent profiles through the real server: built-in variants, user variants saved to and
removed from the data dir's agents.toml (comments kept), clear refusals, and a saved variant
really used by an attempt."""

from pathlib import Path

from tests.e2e.server import ServerProcess, wait_for


def profile(server: ServerProcess, name: str) -> dict:
    return next(a for a in server.api("GET", "/api/agents") if a["name"] == name)


def test_every_cli_has_default_and_plan(server: ServerProcess) -> None:
    agents = {a["name"]: a for a in server.api("GET", "/api/agents")}
    for name in ("claude-code", "codex", "gemini", "aider"):
        variants = {v["name"]: v["permission"] for v in agents[name]["variants"]}
        assert variants == {"default": "full", "plan": "plan"}
    assert [v["name"] for v in agents["script"]["variants"]] == ["default"]


def test_save_and_delete_a_variant(server: ServerProcess) -> None:
    overrides = server.data_dir / "agents.toml"
    overrides.write_text("# my own notes stay here\n")
    body = {
        "model": "opus",
        "permission": "plan",
        "extra_args": ["--max-turns", "30"],
        "env": {"MAX_THINKING_TOKENS": "8000"},
    }
    saved = server.api("PUT", "/api/agents/claude-code/variants/opus-plan", json=body)
    variant = next(v for v in saved["variants"] if v["name"] == "opus-plan")
    assert variant == {"name": "opus-plan", **body}
    assert profile(server, "claude-code")["variants"][-1] == variant
    text = overrides.read_text()
    assert (
        text.startswith("# my own notes stay here\n") and "[claude-code.variants.opus-plan]" in text
    )

    # A built-in variant can be changed, then reset by deleting the change.
    server.api(
        "PUT",
        "/api/agents/claude-code/variants/plan",
        json={"model": "sonnet", "permission": "plan"},
    )
    changed = {v["name"]: v for v in profile(server, "claude-code")["variants"]}
    assert changed["plan"]["model"] == "sonnet"
    server.api("DELETE", "/api/agents/claude-code/variants/plan")
    server.api("DELETE", "/api/agents/claude-code/variants/opus-plan")
    reset = {v["name"]: v for v in profile(server, "claude-code")["variants"]}
    assert set(reset) == {"default", "plan"} and reset["plan"]["model"] is None
    assert "opus-plan" not in overrides.read_text()


def test_refusals(server: ServerProcess) -> None:
    def refused(method: str, path: str, **kwargs) -> tuple[int, str]:
        response = server.client.request(method, path, **kwargs)
        return response.status_code, response.json()["code"]

    ok = {"permission": "full"}
    assert refused("PUT", "/api/agents/nope/variants/x", json=ok) == (422, "unknown_agent")
    assert refused("PUT", "/api/agents/codex/variants/bad name", json=ok) == (
        422,
        "bad_variant_name",
    )
    assert refused("PUT", "/api/agents/codex/variants/x", json={"permission": "root"}) == (
        422,
        "validation_error",
    )
    assert refused("DELETE", "/api/agents/codex/variants/default") == (409, "built_in_variant")
    assert refused("DELETE", "/api/agents/codex/variants/ghost") == (404, "variant_not_found")


def test_an_attempt_runs_with_the_saved_variant(server: ServerProcess, repo: Path) -> None:
    # The script agent's variants carry env: the attempt's command sees it.
    server.api("PUT", "/api/agents/script/variants/loud", json={"env": {"GREETING": "hello"}})
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "t"})
    attempt = server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={
            "agent": {"profile": "script", "variant": "loud", "command": "echo $GREETING > g.txt"}
        },
    )
    assert attempt["agent"]["variant"] == "loud"
    greeting = Path(attempt["worktree_path"]) / "g.txt"
    wait_for(greeting.exists)
    assert greeting.read_text() == "hello\n"
