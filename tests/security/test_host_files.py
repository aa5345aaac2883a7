"""Host-side file operations on trees an agent wrote never follow the agent's links.

The server (root here) reads and writes inside worktrees, agent HOMEs and artifact folders that a
sandboxed agent controls. For each such operation, a link the agent planted (at the file itself,
and at a directory on its way) points at a host file or directory outside the tree, under the
test's tmp_path (a sandbox does not see it: its /tmp is private). The host file must stay as it
was and its content must not come back; the operation fails cleanly (JSON with a stable code,
through the API) or passes the link over.

End to end where an agent can plant the link through the real server (copy_files, the branch's
.paddock.toml, the preview's services, test reports, the OpenAPI spec); at the runtime or service
level otherwise (rebase, restoring `.git`, the diff watcher, reconcile, hand-over, the git
overlay, and a directory swapped while the artifact folder is read).
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest

from paddock.agents.base import Credentials, TurnContext, Variant
from paddock.agents.registry import BUILT_IN
from paddock.config import Settings
from paddock.domain.entities import Scripts
from paddock.domain.errors import Conflict, InvalidInput
from paddock.domain.project_config import CONFIG_FILE
from paddock.runtime import git as runtime_git
from paddock.runtime.git import rebase, staging, worktrees
from paddock.runtime.git.diff import worktree_fingerprint
from paddock.runtime.safefs import UnsafePath
from paddock.runtime.sandbox.sandbox_files import clear_links, hand_over
from paddock.runtime.sandbox.sandbox_identity import find_user
from paddock.services.attempts.agent_turns import git_overlay
from paddock.services.attempts.attempt_worktrees import configure_worktree, copy_into_worktree
from paddock.services.reconcile import _is_worktree_dir
from paddock.services.testing import artifacts as artifacts_module
from paddock.services.testing.artifacts import ArtifactService
from tests.e2e.server import ServerProcess, make_repo
from tests.security.helpers import Bench, file_state, git, token

SANDBOX_USER = "paddock-sandbox"
CASES = ["file", "parent"]  # the link is the file itself / a directory on its way


class Host:
    """A host file and a host directory (holding `name`) outside every tree, with a secret."""

    def __init__(self, root: Path, content: str, name: str = "victim") -> None:
        root.mkdir(parents=True, exist_ok=True)
        self.file = root / f"host-{token()}-{name}"
        self.file.write_text(content)
        self.dir = root / f"host-dir-{token()}"
        self.dir.mkdir()
        (self.dir / name).write_text(content)
        self.name = name
        self.before = self.state()

    def state(self) -> Any:
        inside = {p.name: file_state(p) for p in self.dir.iterdir()}
        dir_info = self.dir.stat()
        return file_state(self.file), inside, (dir_info.st_uid, dir_info.st_mode)

    def untouched(self) -> bool:
        return self.state() == self.before

    def target(self, case: str) -> Path:
        return self.file if case == "file" else self.dir


def new_bench(server: ServerProcess, host_dir: Path, **project: Any) -> Bench:
    """A project of its own (its scripts, its copy_files) on the module's server."""
    repo = make_repo(host_dir / f"repo-{token()}", {"README.md": "# host files\n"})
    created = server.api("POST", "/api/projects", json={"path": str(repo), **project})
    return Bench(server, created, repo)


def start_on(bench: Bench, branch: str, provider: str) -> Any:
    """POST a new attempt whose worktree is checked out from `branch` (an agent's)."""
    task = bench.server.api(
        "POST", f"/api/projects/{bench.project['id']}/tasks", json={"title": "next"}
    )
    response = bench.server.client.post(
        f"/api/tasks/{task['id']}/attempts",
        json={
            "agent": {"profile": "script", "command": "true"},
            "sandbox": {"provider": provider, "network": "none"},
            "base_branch": branch,
        },
    )
    return task, response


def committed_link(repo: Path, branch: str, path: str) -> bool:
    return git(repo, "ls-tree", branch, path).startswith("120000 ")


def refused(response: Any, code: str, *, status: int) -> dict[str, Any]:
    assert response.status_code == status, (response.status_code, response.text)
    body: dict[str, Any] = response.json()
    assert body["code"] == code, body
    return body


class Replanter:
    """An agent racing the server, made deterministic: after every file operation the server
    makes (an open, an unlink, a chown), `path` is a link to `target` again (whatever was there
    moved aside), so whatever the server does next meets the link."""

    def __init__(self, path: Path, target: Path) -> None:
        self.path, self.target = path, target
        self.busy = False
        self.planted = 0

    def replant(self) -> None:
        if self.busy:
            return
        self.busy = True
        try:
            if not self.path.is_symlink():
                if self.path.exists():
                    self.path.rename(self.path.with_name(f"{self.path.name}.aside{self.planted}"))
                self.path.symlink_to(self.target)
                self.planted += 1
        finally:
            self.busy = False

    @contextlib.contextmanager
    def racing(self, monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
        def wrap(call: Callable[..., Any]) -> Callable[..., Any]:
            def wrapper(*args: Any, **kwargs: Any) -> Any:
                try:
                    return call(*args, **kwargs)
                finally:
                    self.replant()

            return wrapper

        with monkeypatch.context() as patch:
            for name in ("open", "unlink", "chown", "lchown", "fchown"):
                patch.setattr(os, name, wrap(getattr(os, name)))
            yield


# --- copy_files: written into a worktree checked out from the agent's branch ----------------------


@pytest.mark.parametrize("case", CASES)
def test_copy_files_never_write_through_a_link_on_the_agents_branch(
    server: ServerProcess, host_dir: Path, provider: str, tmp_path: Path, case: str
) -> None:
    host = Host(tmp_path, "precious\n", name="app.env")
    bench = new_bench(server, host_dir, copy_files=[".env", "conf/app.env"])
    (bench.repo / ".env").write_text("FROM_MAIN=1\n")  # untracked in the main checkout
    (bench.repo / "conf").mkdir()
    (bench.repo / "conf" / "app.env").write_text("APP=1\n")
    planted = ".env" if case == "file" else "conf"
    first = bench.run(
        f"rm -rf {planted} && ln -s {host.target(case)} {planted}",
        provider=provider,
        network="none",
    )
    branch = first.attempt["branch"]
    assert committed_link(bench.repo, branch, planted), "the agent's link was not committed"

    task, response = start_on(bench, branch, provider)

    body = refused(response, "unsafe_path", status=409)
    assert planted in body["message"] and "copy_files" in body["message"]
    assert host.untouched(), "copy_files wrote through the agent's link"
    assert bench.server.api("GET", f"/api/tasks/{task['id']}/attempts") == []


def test_copy_files_refuse_links_in_the_worktree(tmp_path: Path) -> None:
    """The same, without a server: both kinds of link, one call each."""
    host = Host(tmp_path / "host", "precious\n", name="app.env")
    main = tmp_path / "main"
    (main / "conf").mkdir(parents=True)
    (main / ".env").write_text("FROM_MAIN=1\n")
    (main / "conf" / "app.env").write_text("APP=1\n")
    for case, pattern, planted in (("file", ".env", ".env"), ("parent", "conf/*", "conf")):
        worktree = tmp_path / f"worktree-{case}"
        worktree.mkdir()
        (worktree / planted).symlink_to(host.target(case))
        with pytest.raises(UnsafePath) as caught:
            copy_into_worktree(main, worktree, [pattern])
        assert caught.value.code == "unsafe_path"
    assert host.untouched()


# --- the branch's .paddock.toml: read when the worktree is made, and when previews start ------


def test_a_branchs_paddock_toml_is_not_read_through_a_link(
    server: ServerProcess, host_dir: Path, provider: str, tmp_path: Path
) -> None:
    """The config is at the worktree's top (a directory the server made): a link at the file
    is the only kind there is."""
    secret = f"host-secret-{token()}"
    host = Host(tmp_path, f'[scripts]\nsetup = "echo {secret}"\n')
    bench = new_bench(server, host_dir)
    first = bench.run(f"ln -s {host.file} {CONFIG_FILE}", provider=provider, network="none")
    branch = first.attempt["branch"]
    assert committed_link(bench.repo, branch, CONFIG_FILE)

    _, response = start_on(bench, branch, provider)

    body = refused(response, "unsafe_path", status=409)
    assert CONFIG_FILE in body["message"]
    assert secret not in response.text
    assert host.untouched()


def test_configure_worktree_refuses_a_linked_config(tmp_path: Path) -> None:
    secret = f"host-secret-{token()}"
    host = Host(tmp_path / "host", f'[scripts]\nsetup = "echo {secret}"\n')
    worktree = tmp_path / "worktree"
    worktree.mkdir()
    (worktree / CONFIG_FILE).symlink_to(host.file)
    project = SimpleNamespace(repo_path=str(tmp_path / "main"), copy_files=[], scripts=Scripts())
    (tmp_path / "main").mkdir()
    with pytest.raises(UnsafePath):
        configure_worktree(project, worktree)  # type: ignore[arg-type]
    assert host.untouched()


def test_previews_do_not_read_the_worktrees_paddock_toml_through_a_link(
    server: ServerProcess, host_dir: Path, provider: str, tmp_path: Path
) -> None:
    secret = f"host-secret-{token()}"
    host = Host(tmp_path, f'[services]\nleak = "echo {secret}"\n')
    bench = new_bench(server, host_dir, scripts={"dev": "sleep 300"})
    first = bench.run(f"ln -s {host.file} {CONFIG_FILE}", provider=provider, network="none")

    response = server.client.post(f"/api/attempts/{first.attempt['id']}/previews", json={})

    refused(response, "unsafe_path", status=409)
    assert secret not in response.text
    previews = server.api("GET", f"/api/attempts/{first.attempt['id']}/previews")
    assert previews == [], "a preview started from a config read through a link"
    assert host.untouched()


# --- what a process leaves in its artifact folder: test reports, the OpenAPI spec -----------------


def junit(secret: str) -> str:
    return (
        '<testsuite name="host" tests="1">'
        f'<testcase classname="host" name="{secret}"/></testsuite>\n'
    )


def openapi(secret: str) -> str:
    document = {"openapi": "3.0.3", "info": {"title": secret, "version": "1"}, "paths": {}}
    return json.dumps(document)


def no_secret_in_artifacts(server: ServerProcess, attempt_id: str, secret: str) -> None:
    for artifact in server.api("GET", f"/api/attempts/{attempt_id}/artifacts"):
        download = server.client.get(f"/api/artifacts/{artifact['id']}/download")
        assert secret not in download.text, f"{artifact['name']} holds the host file"


def agent_writes(name: str, script: str) -> str:
    """An agent script that leaves `script` in the worktree as `name` (the project runs it)."""
    return f"cat > {name} <<'PADDOCK_EOF'\n{script}\nPADDOCK_EOF\n"


@pytest.mark.parametrize("case", CASES)
def test_a_test_report_is_never_read_through_a_link(
    server: ServerProcess, host_dir: Path, provider: str, tmp_path: Path, case: str
) -> None:
    secret = f"host-secret-{token()}"
    host = Host(tmp_path, junit(secret), name="results.xml")
    attack = {
        "file": f'ln -sf {host.file} "$JUNIT_OUTPUT"',
        "parent": f'rm -rf "$JUNIT_OUTPUT_DIR" && ln -s {host.dir} "$JUNIT_OUTPUT_DIR"',
    }[case]
    bench = new_bench(server, host_dir, scripts={"unit_test": "sh ./unit.sh"})
    first = bench.run(agent_writes("unit.sh", attack), provider=provider, network="none")

    run = server.api(
        "POST",
        f"/api/attempts/{first.attempt['id']}/test-runs",
        json={"kind": "unit", "wait": True},
    )

    assert run["status"] == "error", run
    assert "wrote no JUnit report" in run["error"], run
    cases = server.client.get(f"/api/test-runs/{run['id']}/cases")
    assert cases.status_code == 200 and secret not in cases.text
    no_secret_in_artifacts(server, first.attempt["id"], secret)
    assert host.untouched()


@pytest.mark.parametrize("case", CASES)
def test_the_openapi_spec_is_never_read_through_a_link(
    server: ServerProcess, host_dir: Path, provider: str, tmp_path: Path, case: str
) -> None:
    secret = f"host-secret-{token()}"
    host = Host(tmp_path, openapi(secret), name="openapi.json")
    attack = {
        "file": f'ln -sf {host.file} "$OPENAPI_OUTPUT"',
        "parent": f'd=$(dirname "$OPENAPI_OUTPUT") && rm -rf "$d" && ln -s {host.dir} "$d"',
    }[case]
    bench = new_bench(server, host_dir, scripts={"openapi": "sh ./openapi.sh"})
    first = bench.run(agent_writes("openapi.sh", attack), provider=provider, network="none")

    response = server.client.post(f"/api/attempts/{first.attempt['id']}/openapi")

    refused(response, "spec_missing", status=422)
    assert secret not in response.text
    assert server.client.get(f"/api/attempts/{first.attempt['id']}/openapi").status_code == 404
    no_secret_in_artifacts(server, first.attempt["id"], secret)
    assert host.untouched()


def test_artifacts_are_read_from_the_folder_listed_when_a_directory_is_swapped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The agent's best move against collection: once the server listed `junit/`, put a link
    to a host dir in its place before the server opens the file in it (here, deterministically,
    when the server picks the file's artifact id). What is read is still the folder's own."""
    secret = f"host-secret-{token()}"
    host = Host(tmp_path / "host", junit(secret), name="results.xml")
    service = ArtifactService(SimpleNamespace(settings=Settings(data_dir=tmp_path / "data")))  # type: ignore[arg-type]
    folder = service.folder("process")
    (folder / "junit").mkdir(parents=True)
    (folder / "junit" / "results.xml").write_text(junit("the-folders-own"))
    real_new_id = artifacts_module.new_id

    def swapping_new_id() -> str:
        junit_dir = folder / "junit"
        if junit_dir.is_dir() and not junit_dir.is_symlink():
            junit_dir.rename(folder / "moved")
            junit_dir.symlink_to(host.dir)
        return real_new_id()

    monkeypatch.setattr(artifacts_module, "new_id", swapping_new_id)
    collected = service._copy_folder("attempt", "process")

    stored = [service.path_of(a.id).read_text() for a in collected.artifacts]
    assert all(secret not in text for text in stored), "collection read through the link"
    assert stored == [junit("the-folders-own")]
    assert host.untouched()


# --- runtime operations on the worktree ----------------------------------------------------------


async def linked_worktree(tmp_path: Path) -> tuple[Path, runtime_git.Worktree]:
    repo = make_repo(tmp_path / "repo", {"README.md": "# r\n", "d/g.txt": "g\n"})
    path = tmp_path / "worktree"
    await worktrees.add_worktree(repo, path, "agent", "main")
    return repo, worktrees.linked(repo, path)


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES)
async def test_the_diff_watcher_does_not_stat_through_links(tmp_path: Path, case: str) -> None:
    """The fingerprint that tells the UI a worktree changed stats each changed path: a link's
    target (a host file's size, a host dir's time) must not show through it."""
    host = Host(tmp_path / "host", "small\n")
    _, tree = await linked_worktree(tmp_path)
    (tree.path / "leak").symlink_to(host.target(case))
    before = await worktree_fingerprint(tree)
    if case == "file":
        host.file.write_text("grown much larger than before\n")
    else:
        os.utime(host.dir, ns=(1_000_000_000, 1_000_000_000))
    assert await worktree_fingerprint(tree) == before


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES)
async def test_a_rebase_resolution_is_not_read_through_a_link(tmp_path: Path, case: str) -> None:
    """The agent resolves a conflict by putting a link where the file was (or where its
    directory was): Paddock's marker check must not read the host file it points to (which has
    a marker line, so reading it would refuse the resolution)."""
    marker_text = "<<<<<<< HEAD\nhost secret\n=======\n>>>>>>> x\n"
    host = Host(tmp_path / "host", marker_text, name="g.txt")
    repo, tree = await linked_worktree(tmp_path)
    (tree.path / "d" / "g.txt").write_text("agent\n")
    await staging.commit_all(tree, "agent's change")
    (repo / "d" / "g.txt").write_text("main\n")
    git(repo, "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qam", "main's change")
    assert await rebase.start(tree, "main") == ["d/g.txt"]
    if case == "file":
        (tree.path / "d" / "g.txt").unlink()
        (tree.path / "d" / "g.txt").symlink_to(host.file)
    else:
        (tree.path / "d" / "g.txt").unlink()
        (tree.path / "d").rmdir()
        (tree.path / "d").symlink_to(host.dir)

    assert await rebase.go_on(tree) == []  # a link is a resolution; its target is not read

    assert not rebase.rebase_in_progress(tree)
    planted = "d/g.txt" if case == "file" else "d"
    assert committed_link(repo, "agent", planted)
    assert host.untouched()


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES)
async def test_restoring_the_worktrees_git_file_never_writes_through_a_link(
    tmp_path: Path, case: str
) -> None:
    """After a turn the server puts back the worktree's `.git` file: over a link there, or a
    directory holding a link to a host dir, without writing or removing through either."""
    host = Host(tmp_path / "host", "precious\n")
    _, tree = await linked_worktree(tmp_path)
    dot_git = tree.path / ".git"
    dot_git.unlink()
    if case == "file":
        dot_git.symlink_to(host.file)
    else:
        dot_git.mkdir()
        (dot_git / "objects").symlink_to(host.dir)

    assert worktrees.restore_link(tree) is True

    assert not dot_git.is_symlink()
    assert dot_git.read_text() == f"gitdir: {tree.git_dir}\n"
    assert host.untouched()


@pytest.mark.anyio
async def test_restoring_the_git_file_never_writes_through_a_link_planted_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A process of the attempt still running (a preview's dev server) puts its link back
    whenever the server removes it."""
    host = Host(tmp_path / "host", "precious\n")
    _, tree = await linked_worktree(tmp_path)
    agent = Replanter(tree.path / ".git", host.file)
    with agent.racing(monkeypatch):
        agent.replant()
        worktrees.restore_link(tree)
    assert host.untouched(), "the server wrote through the agent's link"
    assert (tree.path / ".git").read_text() == f"gitdir: {tree.git_dir}\n"


@pytest.mark.anyio
async def test_removing_a_stray_worktree_does_not_trust_a_linked_git_file(
    tmp_path: Path,
) -> None:
    """A directory that is not a registered worktree is removed only when its own `.git` file
    names the repository's admin dir; a link to a host file saying so does not count."""
    repo, tree = await linked_worktree(tmp_path)
    stray = tmp_path / "stray"
    stray.mkdir()
    (stray / "keep.txt").write_text("not a worktree\n")
    host = Host(tmp_path / "host", f"gitdir: {tree.git_dir}\n")
    (stray / ".git").symlink_to(host.file)
    with pytest.raises(InvalidInput) as caught:
        await worktrees.remove_worktree(repo, stray)
    assert caught.value.code == "not_a_worktree"
    assert (stray / "keep.txt").exists()
    assert not _is_worktree_dir(stray), "reconcile would delete it"
    host.file.write_text("gitdir: /somewhere\n")  # what reconcile reads to decide
    assert not _is_worktree_dir(stray)


# --- the sandbox's own dirs: handing them over, the agent's git overlay ---------------------------


@pytest.mark.parametrize("case", CASES)
def test_handing_a_tree_over_never_chowns_through_a_link(tmp_path: Path, case: str) -> None:
    user = find_user(SANDBOX_USER)
    if os.geteuid() != 0 or user is None:
        pytest.skip("hand-over changes owners only as root, to the sandbox user")
    host = Host(tmp_path / "host", "precious\n")
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "own.txt").write_text("the tree's\n")
    (tree / "sub" / "link").symlink_to(host.target(case))

    hand_over(tree, user)

    assert (tree / "sub" / "own.txt").stat().st_uid == user.uid
    assert os.lstat(tree / "sub" / "link").st_uid == user.uid  # the link itself
    assert host.file.stat().st_uid == 0 and host.dir.stat().st_uid == 0
    assert all(p.stat().st_uid == 0 for p in host.dir.iterdir())
    assert host.untouched()


def test_handing_a_tree_over_never_chowns_through_a_link_planted_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A directory of the tree becomes a link to a host dir as soon as the server starts
    changing owners: nothing in the host dir changes owner."""
    user = find_user(SANDBOX_USER)
    if os.geteuid() != 0 or user is None:
        pytest.skip("hand-over changes owners only as root, to the sandbox user")
    host = Host(tmp_path / "host", "precious\n", name="own.txt")
    tree = tmp_path / "tree"
    (tree / "sub").mkdir(parents=True)
    (tree / "sub" / "own.txt").write_text("the tree's\n")
    agent = Replanter(tree / "sub", host.dir)
    with agent.racing(monkeypatch):
        hand_over(tree, user)
    assert agent.planted == 1, "the race did not happen"
    assert host.untouched(), "a host file changed owner through the agent's link"


@pytest.mark.anyio
@pytest.mark.parametrize("case", CASES)
async def test_the_git_overlay_is_never_written_through_a_link(tmp_path: Path, case: str) -> None:
    """What a turn writes into the agent's HOME (its git overlay), even without the links
    cleared first."""
    host = Host(tmp_path / "host", "precious\n", name="index")
    _, tree = await linked_worktree(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    if case == "file":
        (home / ".paddock-git").mkdir()
        (home / ".paddock-git" / "index").symlink_to(host.file)
    else:
        (home / ".paddock-git").symlink_to(host.dir)
    with pytest.raises(UnsafePath):
        git_overlay(home, tree)
    assert host.untouched()


def test_fifos_and_sockets_in_the_agents_home_are_cleared_before_it_is_prepared(
    tmp_path: Path,
) -> None:
    """Each agent CLI's `prepare_home` reads its own config back (as root): a fifo left there
    would make that read wait forever, a socket fail it. They go with the links."""
    home = tmp_path / "home"
    (home / ".gemini").mkdir(parents=True)
    os.mkfifo(home / ".gemini" / "settings.json")
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(home / "agent.sock"))
    assert clear_links(home) == 2

    assert sorted(p.name for p in home.rglob("*")) == [".gemini"]
    gemini = next(a for a in BUILT_IN if a.name == "gemini")
    worktree = make_repo(tmp_path / "worktree")
    gemini.prepare_home(
        TurnContext(
            prompt="p",
            worktree=worktree,
            home=home,
            executable="/bin/true",
            variant=Variant(),
            credentials=Credentials(),
        )
    )
    assert (home / ".gemini" / "settings.json").is_file()


def test_a_conflict_is_the_error_class_of_unsafe_paths() -> None:
    """Through the API an unsafe path is a 409 with the stable code `unsafe_path`."""
    error = UnsafePath("x leads through a symlink", path="x")
    assert isinstance(error, Conflict)
    assert (error.code, error.http_status) == ("unsafe_path", 409)
