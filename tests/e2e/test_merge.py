"""Merging an attempt into its base with real repositories: each strategy, and every refusal
leaving the user's checkout, its uncommitted changes and the base branch as they were."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.server import ServerProcess, make_repo
from tests.e2e.test_previews import attempt_writing


def git(repo: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=repo, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def commit(repo: Path, name: str, text: str) -> None:
    (repo / name).write_text(text)
    git(repo, "add", name)
    git(repo, "-c", "user.name=u", "-c", "user.email=u@u", "commit", "-qm", f"user: {name}")


def setup(server: ServerProcess, tmp_path: Path, agent: str) -> tuple[Path, dict[str, Any]]:
    repo = make_repo(tmp_path / "repo", {"app.txt": "v1\n", "README.md": "# r\n"})
    project = server.api("POST", "/api/projects", json={"path": str(repo)})
    return repo, attempt_writing(server, project, agent)


def merge(server: ServerProcess, attempt: dict[str, Any], **body: Any) -> Any:
    return server.client.post(f"/api/attempts/{attempt['id']}/merge", json=body)


@pytest.mark.parametrize("strategy", ["squash", "merge", "rebase"])
def test_each_strategy_lands_the_attempt_on_the_checked_out_base(
    server: ServerProcess, tmp_path: Path, strategy: str
) -> None:
    repo, attempt = setup(server, tmp_path, "echo v2 > app.txt; echo new > added.txt")
    before = git(repo, "rev-parse", "main")
    head = git(Path(attempt["worktree_path"]), "rev-parse", "HEAD")
    answer = merge(server, attempt, strategy=strategy)
    assert answer.status_code == 200, answer.text
    merged = answer.json()["merged"]
    tip = git(repo, "rev-parse", "main")
    assert merged["commit"] == tip and merged["strategy"] == strategy and merged["head"] == head
    parents = git(repo, "rev-list", "--parents", "-n", "1", tip).split()[1:]
    if strategy == "squash":
        assert parents == [before] and git(repo, "log", "-1", "--format=%s") == "Page"
    elif strategy == "merge":
        assert parents == [before, head]
    else:
        assert tip == head  # fast-forwarded to the attempt's own commits
    # The main checkout was clean: its files follow the branch, nothing is left staged.
    assert (repo / "app.txt").read_text() == "v2\n" and (repo / "added.txt").read_text() == "new\n"
    assert git(repo, "status", "--porcelain") == ""
    task = server.api("GET", f"/api/tasks/{attempt['task_id']}")
    steps = {
        s["id"]: s["name"] for s in server.api("GET", f"/api/projects/{task['project_id']}/steps")
    }
    assert steps[task["step_id"]] == "Done"


def test_a_base_that_moved_on_is_refused(server: ServerProcess, tmp_path: Path) -> None:
    repo, attempt = setup(server, tmp_path, "echo v2 > app.txt")
    commit(repo, "other.txt", "meanwhile\n")
    tip = git(repo, "rev-parse", "main")
    answer = merge(server, attempt)
    assert answer.status_code == 409 and answer.json()["code"] == "base_moved"
    assert "rebase" in answer.json()["message"]
    assert git(repo, "rev-parse", "main") == tip
    assert server.api("GET", f"/api/attempts/{attempt['id']}")["merged"] is None


def test_uncommitted_changes_in_the_attempt_are_refused(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo, attempt = setup(server, tmp_path, "echo v2 > app.txt")
    (Path(attempt["worktree_path"]) / "draft.txt").write_text("not yet\n")
    tip = git(repo, "rev-parse", "main")
    answer = merge(server, attempt)
    assert answer.status_code == 409 and answer.json()["code"] == "attempt_uncommitted"
    assert git(repo, "rev-parse", "main") == tip


def test_the_users_uncommitted_changes_in_the_base_checkout_are_never_touched(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo, attempt = setup(server, tmp_path, "echo v2 > app.txt")
    (repo / "README.md").write_text("# my unsaved notes\n")
    tip = git(repo, "rev-parse", "main")
    answer = merge(server, attempt)
    assert answer.status_code == 409 and answer.json()["code"] == "base_checkout_dirty"
    assert (repo / "README.md").read_text() == "# my unsaved notes\n"
    assert (repo / "app.txt").read_text() == "v1\n" and git(repo, "rev-parse", "main") == tip


def test_a_base_checked_out_nowhere_moves_without_touching_any_checkout(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo, attempt = setup(server, tmp_path, "echo v2 > app.txt")
    git(repo, "checkout", "-q", "-b", "side")
    (repo / "scratch.txt").write_text("the user's, untracked\n")
    answer = merge(server, attempt, remove_worktree=True, delete_branch=True)
    assert answer.status_code == 200, answer.text
    assert git(repo, "show", "main:app.txt") == "v2"
    assert git(repo, "rev-parse", "--abbrev-ref", "HEAD") == "side"
    assert (repo / "app.txt").read_text() == "v1\n"  # the checkout of `side` is as it was
    assert (repo / "scratch.txt").read_text() == "the user's, untracked\n"
    assert not Path(attempt["worktree_path"]).exists()
    assert git(repo, "branch", "--list", attempt["branch"]) == ""


def test_nothing_to_merge_is_refused(server: ServerProcess, tmp_path: Path) -> None:
    _, attempt = setup(server, tmp_path, "true")
    answer = merge(server, attempt)
    assert answer.status_code == 409 and answer.json()["code"] == "nothing_to_merge"


def test_a_base_checked_out_in_another_worktree_follows_there_or_refuses_when_dirty(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo, attempt = setup(server, tmp_path, "echo v2 > app.txt")
    git(repo, "checkout", "-q", "-b", "side")
    elsewhere = tmp_path / "base-checkout"
    git(repo, "worktree", "add", "-q", str(elsewhere), "main")
    (elsewhere / "README.md").write_text("# edited there, not committed\n")
    refused = merge(server, attempt)
    assert refused.status_code == 409 and refused.json()["code"] == "base_checkout_dirty"
    assert str(elsewhere) in refused.json()["message"]
    assert (elsewhere / "README.md").read_text() == "# edited there, not committed\n"
    git(elsewhere, "checkout", "-q", "--", "README.md")  # the user puts it back
    landed = merge(server, attempt)
    assert landed.status_code == 200, landed.text
    assert (elsewhere / "app.txt").read_text() == "v2\n"  # that checkout followed its branch
    assert git(elsewhere, "status", "--porcelain") == ""
    assert (repo / "app.txt").read_text() == "v1\n"  # the main checkout (on `side`) untouched


def test_a_merge_without_choices_takes_the_settings(tmp_path: Path) -> None:
    env = {"PADDOCK_MERGE_STRATEGY": "merge", "PADDOCK_MERGE_REMOVES_WORKTREE": "true"}
    with ServerProcess(tmp_path / "data", env=env) as server:
        repo, attempt = setup(server, tmp_path, "echo v2 > app.txt")
        before = git(repo, "rev-parse", "main")
        answer = server.client.post(f"/api/attempts/{attempt['id']}/merge")
        assert answer.status_code == 200, answer.text
        assert answer.json()["merged"]["strategy"] == "merge"
        tip = git(repo, "rev-parse", "main")
        assert git(repo, "rev-list", "--parents", "-n", "1", tip).split()[1] == before
        assert not Path(attempt["worktree_path"]).exists()
        assert git(repo, "branch", "--list", attempt["branch"]) != ""  # kept: not asked
