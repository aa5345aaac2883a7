"""An attempt's diff through the real server and real git: statuses and stats, renames, binary
and huge files, uncommitted and untracked changes, the worktree's own index left alone."""

from __future__ import annotations

import queue
import subprocess
import threading
from pathlib import Path
from typing import Any

from tests.e2e.server import ServerProcess, make_repo
from tests.e2e.test_previews import attempt_writing

FILES = {
    "app.txt": "v1\n",
    "old-name.txt": "".join(f"line {i}\n" for i in range(40)),
    "gone.txt": "bye\n",
}
AGENT = (
    "echo v2 > app.txt; mv old-name.txt new-name.txt; rm gone.txt; "
    "printf 'PNG\\000\\001\\002\\003' > logo.bin; seq 1 30000 > huge.txt; echo hi > added.txt"
)


def project_for(server: ServerProcess, tmp_path: Path) -> dict[str, Any]:
    repo = make_repo(tmp_path / "repo", FILES)
    project: dict[str, Any] = server.api("POST", "/api/projects", json={"path": str(repo)})
    return project


def by_path(diff: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["path"]: f for f in diff["files"]}


def test_an_attempt_with_no_changes_has_an_empty_diff(
    server: ServerProcess, tmp_path: Path
) -> None:
    attempt = attempt_writing(server, project_for(server, tmp_path), "true")
    diff = server.api("GET", f"/api/attempts/{attempt['id']}/diff")
    assert diff["files"] == [] and diff["uncommitted"] is False and diff["truncated"] is False
    assert diff["base_commit"] == attempt["base_commit"]


def test_statuses_stats_renames_binary_and_huge_files(
    server: ServerProcess, tmp_path: Path
) -> None:
    attempt = attempt_writing(server, project_for(server, tmp_path), AGENT)
    diff = server.api("GET", f"/api/attempts/{attempt['id']}/diff")
    files = by_path(diff)
    assert set(files) == {
        "app.txt",
        "new-name.txt",
        "gone.txt",
        "logo.bin",
        "huge.txt",
        "added.txt",
    }
    app = files["app.txt"]
    assert (app["status"], app["additions"], app["deletions"]) == ("modified", 1, 1)
    assert "-v1\n" in app["patch"] and "+v2\n" in app["patch"]
    renamed = files["new-name.txt"]
    assert renamed["status"] == "renamed" and renamed["old_path"] == "old-name.txt"
    assert files["gone.txt"]["status"] == "deleted" and files["gone.txt"]["deletions"] == 1
    logo = files["logo.bin"]
    assert logo["binary"] is True and logo["patch"] is None and logo["status"] == "added"
    huge = files["huge.txt"]
    assert huge["too_large"] is True and huge["patch"] is None and huge["additions"] == 30000
    assert files["added.txt"]["patch"].endswith("+hi\n")
    assert diff["uncommitted"] is False  # the agent's turn was committed for it


def test_uncommitted_and_untracked_changes_count_and_the_worktree_index_is_untouched(
    server: ServerProcess, tmp_path: Path
) -> None:
    attempt = attempt_writing(server, project_for(server, tmp_path), "echo v2 > app.txt")
    worktree = Path(attempt["worktree_path"])
    (worktree / "draft.md").write_text("# not committed\n")
    (worktree / "app.txt").write_text("v3\n")
    before = git_status(worktree)
    diff = server.api("GET", f"/api/attempts/{attempt['id']}/diff")
    files = by_path(diff)
    assert diff["uncommitted"] is True
    assert (
        files["draft.md"]["status"] == "added" and "+# not committed" in files["draft.md"]["patch"]
    )
    assert "+v3\n" in files["app.txt"]["patch"]  # the worktree as it is, not the last commit
    assert git_status(worktree) == before == "M app.txt\n?? draft.md\n"  # untracked, unstaged


def test_one_file_and_a_file_without_changes(server: ServerProcess, tmp_path: Path) -> None:
    attempt = attempt_writing(server, project_for(server, tmp_path), AGENT)
    one = server.api("GET", f"/api/attempts/{attempt['id']}/diff/file", params={"path": "app.txt"})
    assert one["path"] == "app.txt" and "+v2" in one["patch"]
    missing = server.client.get(
        f"/api/attempts/{attempt['id']}/diff/file", params={"path": "README.md"}
    )
    assert missing.status_code == 404 and missing.json()["code"] == "file_not_changed"
    light = server.api("GET", f"/api/attempts/{attempt['id']}/diff", params={"patches": False})
    assert all(f["patch"] is None for f in light["files"]) and len(light["files"]) == 6


def git_status(worktree: Path) -> str:
    done = subprocess.run(
        ["git", "status", "--porcelain"], cwd=worktree, capture_output=True, text=True, check=True
    )
    return done.stdout.replace(" M ", "M ")


def test_a_watched_worktree_tells_when_its_diff_changes(
    server: ServerProcess, tmp_path: Path
) -> None:
    attempt = attempt_writing(server, project_for(server, tmp_path), "echo v2 > app.txt")
    worktree = Path(attempt["worktree_path"])
    events: queue.Queue[Any] = queue.Queue()

    def listen() -> None:
        for _, event, data in server.sse(f"/api/attempts/{attempt['id']}/diff/stream"):
            events.put((event, data))
            return

    threading.Thread(target=listen, daemon=True).start()
    # The watch starts with the stream: edit until a change is seen after its first look.
    for n in range(100):
        (worktree / "notes.md").write_text(f"edit {n}\n")
        try:
            event, data = events.get(timeout=0.3)
            break
        except queue.Empty:
            continue
    else:
        raise AssertionError("no diff_changed event")
    assert event == "diff_changed" and data == {"id": attempt["id"]}
    changed = server.api("GET", f"/api/attempts/{attempt['id']}/diff")
    assert "notes.md" in by_path(changed)
