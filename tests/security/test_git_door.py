"""The worktree's git dir is a door to the host (shared/sandbox.md): nothing an agent writes may
make a later host-side git command (Paddock's auto-commit, the user's own git) run its code, and
an agent cannot move branches (Paddock commits for it, on the host)."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from tests.security.helpers import Bench, Run, file_state, git, token

REFUSED = ("Read-only file system", "Permission denied")


def test_git_hooks_config_and_branches_of_the_repository_are_out_of_reach(
    bench: Bench, provider: str, host_dir: Path
) -> None:
    repo = bench.repo
    markers = host_dir / f"git-markers-{token()}"
    markers.mkdir()
    main_before = git(repo, "rev-parse", "main")
    watched = [repo / ".git" / "config", repo / ".git" / "HEAD", repo / ".git" / "packed-refs"]
    before = {path: file_state(path) for path in watched}
    hooks_before = sorted(os.listdir(repo / ".git" / "hooks"))
    run = bench.run(
        f"""
main={repo}
probe hook sh -c "printf '#!/bin/sh\\ntouch {markers}/main-hook\\n' > $main/.git/hooks/post-commit"
probe fsmonitor git -C $main config core.fsmonitor "touch {markers}/main-fsmonitor"
probe hooks_path git config core.hooksPath {markers}
admin=$(git rev-parse --git-dir)
probe worktree_config git config --file $admin/config.worktree core.fsmonitor "touch {markers}/w"
probe move_main git branch -f main HEAD~0
probe update_ref git update-ref refs/heads/main HEAD
probe new_branch git branch planted-{token()}
probe own_commit git commit --allow-empty -qm "agent's own commit"
probe delete_main git branch -D main
""",
        provider=provider,
    )
    assert run.process["status"] == "succeeded", run.text
    for label in ("hook", "fsmonitor", "hooks_path", "worktree_config"):
        run.refused(label, *REFUSED, "could not lock config file")
    for label in ("move_main", "update_ref", "new_branch", "own_commit", "delete_main"):
        result = run.probe(label)
        assert not result.ok, f"{label}: {result.out}"
    assert git(repo, "rev-parse", "main") == main_before
    assert {path: file_state(path) for path in watched} == before
    assert sorted(os.listdir(repo / ".git" / "hooks")) == hooks_before
    assert list(markers.iterdir()) == []


def plant(bench: Bench, provider: str, host_dir: Path, *, nested: bool) -> tuple[Run, Path]:
    """A turn that replaces the worktree's `.git` file with a repository of the agent's own
    whose config and hooks run commands (core.fsmonitor, core.hooksPath and hooks, a required
    clean filter), and changes files so the auto-commit after the turn has work to do. With
    `nested`, another such repository (with a commit) lies in nested/. Every planted command
    creates a marker file in the returned host dir, which the sandbox itself cannot write."""
    markers = host_dir / f"git-markers-{token()}"
    markers.mkdir()
    evil = f"touch {markers}/\\$1"  # $1: which door ran (escaped: set when it runs)
    script = f"""
# Repositories of the agent's own: not Paddock's index and object overlay, if it gives one.
unset GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
plant() {{
  git init -q "$1" 2>&1 || return 1
  g="$1/.git"
  git -C "$1" -c user.name=a -c user.email=a@a commit -q --allow-empty -m planted || return 1
  git --git-dir="$g" config core.fsmonitor "sh -c '{evil}' - fsmonitor-$1"
  git --git-dir="$g" config core.hooksPath "$PWD/$g/hooks"
  git --git-dir="$g" config filter.evil.clean "sh -c '{evil}' - filter-$1; cat"
  git --git-dir="$g" config filter.evil.required true
  for hook in pre-commit post-commit post-checkout post-index-change pre-auto-gc; do
    printf '#!/bin/sh\\ntouch %s/hook-%s\\n' "{markers}" "$hook" > "$g/hooks/$hook"
    chmod +x "$g/hooks/$hook"
  done
}}
probe remove_link rm .git
probe plant plant .
if [ {int(nested)} = 1 ]; then mkdir nested && probe plant_nested plant nested; fi
echo '* filter=evil' > .gitattributes
echo changed > app.txt
probe planted test -d .git
"""
    run = bench.run(script, provider=provider)
    assert run.process["status"] == "succeeded", run.text
    for label in ("remove_link", "plant", "planted") + (("plant_nested",) if nested else ()):
        run.allowed(label)
    return run, markers


def markers_in(markers: Path) -> list[str]:
    return sorted(marker.name for marker in markers.iterdir())


def users_git(*where: Path) -> None:
    """What a user does in a checkout after a turn (trusting every directory: the tests' git
    has safe.directory=*, as a user who runs Paddock unprivileged needs none)."""
    for cwd in where:
        for args in (["status"], ["diff"], ["diff", "HEAD~1"], ["add", "-A"], ["log", "-1"]):
            subprocess.run(["git", *args], cwd=cwd, capture_output=True, check=False, timeout=60)


def test_a_planted_git_dir_never_runs_on_the_host(
    bench: Bench, provider: str, host_dir: Path
) -> None:
    """Paddock's auto-commit after the turn runs git on the host over the planted worktree."""
    run, markers = plant(bench, provider, host_dir, nested=True)
    tree = run.worktree
    link = tree / ".git"
    # Paddock put the worktree's link back, then committed the turn ...
    assert link.is_file() and not link.is_symlink()
    admin = Path(link.read_text().removeprefix("gitdir:").strip())
    assert admin.parent == bench.repo / ".git" / "worktrees"
    commit = run.process["commit_after"]
    assert commit and commit != run.process["commit_before"], run.process
    assert git(tree, "show", f"{commit}:app.txt") == "changed"
    # ... without running anything the agent planted; nor does the user's git in the main
    # checkout later.
    assert markers_in(markers) == [], "Paddock's git ran the agent's code on the host"
    users_git(bench.repo)
    assert markers_in(markers) == [], "the user's git ran the agent's code on the host"


def test_the_users_git_in_a_restored_worktree_runs_nothing_planted(
    bench: Bench, provider: str, host_dir: Path
) -> None:
    run, markers = plant(bench, provider, host_dir, nested=False)
    users_git(run.worktree)
    assert markers_in(markers) == [], "the user's git ran the agent's code on the host"


def test_the_users_git_never_runs_a_nested_repository_the_agent_made(
    bench: Bench, provider: str, host_dir: Path
) -> None:
    run, markers = plant(bench, provider, host_dir, nested=True)
    users_git(run.worktree)
    assert markers_in(markers) == [], "the user's git ran the agent's code on the host"
