"""An attempt's worktree through the real server: generated files (caches an agent, a test run
or a preview leaves) never reach a commit nor main, whether the project has a .gitignore or
not; the diff marks untracked files and lists ignored ones apart; uncommitted changes are
committed or discarded by hand, each refusal with its own code."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tests.e2e.server import ServerProcess, make_repo, wait_for
from tests.e2e.test_previews import attempt_writing, start
from tests.e2e.test_workflow import follow_up_done

# The agent changes a module and imports it (Python writes its bytecode next to it, as an
# agent's own test run does), and leaves the caches other tools leave.
AGENT = (
    "echo 'X = 2' > mod.py; python3 -c 'import mod'; "
    "mkdir -p node_modules/pkg web/.next && echo 'x' > node_modules/pkg/index.js; "
    "echo 'cache' > web/.next/build; touch .DS_Store; "
    "mkdir -p .aider.tags.cache.v4 && echo db > .aider.tags.cache.v4/cache.db"
)
# A test run and a preview import modules of their own: they must write no bytecode.
SCRIPTS = {
    "unit_test": "python3 -c 'import tested'",
    "dev": "python3 -c 'import served' && exec python3 -m http.server \"$PORT\" --bind 127.0.0.1",
}
FILES = {
    "README.md": "# r\n",
    "app.txt": "v1\n",
    "mod.py": "X = 1\n",
    "tested.py": "",
    "served.py": "",
}


def git(where: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=where, capture_output=True, text=True, check=True)
    return done.stdout.strip()


def tree(where: Path, rev: str) -> set[str]:
    return set(git(where, "ls-tree", "-r", "--name-only", rev).splitlines())


def project_with(server: ServerProcess, repo: Path) -> dict[str, Any]:
    project: dict[str, Any] = server.api(
        "POST", "/api/projects", json={"path": str(repo), "scripts": SCRIPTS}
    )
    return project


def settled(server: ServerProcess, attempt: dict[str, Any]) -> dict[str, Any]:
    found: dict[str, Any] = wait_for(
        lambda: (
            a
            if (a := server.api("GET", f"/api/attempts/{attempt['id']}"))["status"]
            not in ("creating", "setting_up", "running")
            else None
        ),
        60,
    )
    return found


def test_generated_files_never_reach_main_through_tests_a_preview_a_follow_up_and_a_merge(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", FILES)  # no .gitignore at all
    attempt = attempt_writing(server, project_with(server, repo), AGENT)
    worktree = Path(attempt["worktree_path"])
    assert list(worktree.glob("__pycache__/mod.*.pyc"))  # the agent's import wrote bytecode
    # The turn's auto-commit took the change, and none of the caches.
    assert tree(worktree, "HEAD") == set(FILES)
    assert git(worktree, "show", "HEAD:mod.py") == "X = 2"

    run = server.api(
        "POST", f"/api/attempts/{attempt['id']}/test-runs", json={"kind": "unit", "wait": True}
    )
    assert run["status"] != "running"
    (preview,) = start(server, attempt)
    assert preview["status"] == "running", preview
    server.api("DELETE", f"/api/previews/{preview['id']}")
    # The test run and the preview imported their modules without writing bytecode.
    assert not list(worktree.glob("__pycache__/tested.*"))
    assert not list(worktree.glob("__pycache__/served.*"))

    follow_up = server.api(
        "POST", f"/api/attempts/{attempt['id']}/follow-ups", json={"prompt": "again"}
    )
    # The follow-up is done first, the attempt idle last (the merge waits for that).
    follow_up_done(server, attempt["id"], follow_up["id"])
    assert tree(worktree, "HEAD") == set(FILES)

    # The caches are no uncommitted changes: the merge goes through, and main gets none.
    answer = server.client.post(f"/api/attempts/{attempt['id']}/merge", json={})
    assert answer.status_code == 200, answer.text
    assert tree(repo, "main") == set(FILES)
    assert (repo / "mod.py").read_text() == "X = 2\n"
    assert git(repo, "status", "--porcelain", "--untracked-files=all") == ""


def test_the_diff_marks_untracked_files_and_lists_ignored_ones_apart(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", {**FILES, ".gitignore": "dist/\n"})
    attempt = attempt_writing(server, project_with(server, repo), "echo v2 > app.txt")
    worktree = Path(attempt["worktree_path"])
    (worktree / "draft.md").write_text("# not committed yet\n")
    for generated in ("dist/bundle.js", "__pycache__/m.pyc", "node_modules/p/i.js", "src/x.pyc"):
        (worktree / generated).parent.mkdir(parents=True, exist_ok=True)
        (worktree / generated).write_text("x\n")

    diff = server.api("GET", f"/api/attempts/{attempt['id']}/diff")
    files = {f["path"]: f for f in diff["files"]}
    assert set(files) == {"app.txt", "draft.md"}
    assert files["draft.md"]["untracked"] is True and files["draft.md"]["status"] == "added"
    assert files["app.txt"]["untracked"] is False
    assert diff["uncommitted"] is True
    assert diff["ignored"] == ["__pycache__/", "dist/", "node_modules/", "src/"]
    assert diff["ignored_total"] == 4

    one = server.api("GET", f"/api/attempts/{attempt['id']}/diff/file", params={"path": "draft.md"})
    assert one["untracked"] is True


def test_uncommitted_changes_are_committed_or_discarded_by_hand(
    server: ServerProcess, tmp_path: Path
) -> None:
    repo = make_repo(tmp_path / "repo", FILES)
    attempt = attempt_writing(server, project_with(server, repo), "echo v2 > app.txt")
    worktree = Path(attempt["worktree_path"])
    base = f"/api/attempts/{attempt['id']}"

    for action, code in (("commit", "nothing_to_commit"), ("discard", "nothing_to_discard")):
        answer = server.client.post(f"{base}/{action}", json={"message": "m"})
        assert (answer.status_code, answer.json()["code"]) == (409, code), answer.text

    (worktree / "app.txt").write_text("mine\n")
    (worktree / "notes.md").write_text("notes\n")
    (worktree / "__pycache__").mkdir()
    (worktree / "__pycache__" / "mod.cpython-311.pyc").write_text("bc")
    refused = server.client.post(f"{base}/merge", json={})
    assert refused.status_code == 409 and refused.json()["code"] == "attempt_uncommitted"
    assert "commit or discard" in refused.json()["message"]
    blank = server.client.post(f"{base}/commit", json={"message": "   "})
    assert (blank.status_code, blank.json()["code"]) == (422, "empty_commit_message")

    done = server.api("POST", f"{base}/commit", json={"message": "  My own edits \n"})
    assert done["commit"] == git(worktree, "rev-parse", "HEAD") and done["left_out"] == []
    assert git(worktree, "log", "-1", "--format=%s") == "My own edits"
    assert tree(worktree, "HEAD") == {*FILES, "notes.md"}  # the bytecode stays out
    assert server.api("GET", f"{base}/diff")["uncommitted"] is False

    (worktree / "app.txt").write_text("oops\n")
    (worktree / "scratch").mkdir()
    (worktree / "scratch" / "tmp.txt").write_text("tmp\n")
    discarded = server.api("POST", f"{base}/discard")
    assert discarded["files"] == ["app.txt", "scratch/tmp.txt"]
    assert (worktree / "app.txt").read_text() == "mine\n"
    assert not (worktree / "scratch").exists()
    assert (worktree / "__pycache__" / "mod.cpython-311.pyc").exists()  # ignored: it stays
    assert server.api("GET", f"{base}/diff")["uncommitted"] is False

    merged = server.client.post(f"{base}/merge", json={})
    assert merged.status_code == 200, merged.text
    assert tree(repo, "main") == {*FILES, "notes.md"}


def test_commit_and_discard_wait_for_a_running_agent(server: ServerProcess, tmp_path: Path) -> None:
    repo = make_repo(tmp_path / "repo", FILES)
    project = project_with(server, repo)
    task = server.api("POST", f"/api/projects/{project['id']}/tasks", json={"title": "Slow"})
    attempt = server.api(
        "POST",
        f"/api/tasks/{task['id']}/attempts",
        json={"agent": {"profile": "script", "command": "echo v2 > app.txt; sleep 60"}},
    )
    wait_for(lambda: server.api("GET", f"/api/attempts/{attempt['id']}")["status"] == "running")
    wait_for(lambda: (Path(attempt["worktree_path"]) / "app.txt").read_text() == "v2\n")
    for action in ("commit", "discard"):
        answer = server.client.post(
            f"/api/attempts/{attempt['id']}/{action}", json={"message": "m"}
        )
        assert (answer.status_code, answer.json()["code"]) == (409, "attempt_busy"), answer.text
    assert (Path(attempt["worktree_path"]) / "app.txt").read_text() == "v2\n"
    server.api("POST", f"/api/attempts/{attempt['id']}/stop")
    settled(server, attempt)
