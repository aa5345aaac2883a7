"""The git CLI, driven asynchronously. Nothing here knows about projects or attempts.

Every invocation disables repository hooks and fsmonitor (`-c core.hooksPath=/dev/null
-c core.fsmonitor=false`): an agent that can write into a repository's `.git` must not be able to
make Paddock run its code on the host. Prompts are off (`GIT_TERMINAL_PROMPT=0`), messages are
untranslated (`LC_ALL=C`) and stdin is closed.

The functions do not lock: a caller that mutates a repository (worktrees, branches, commits)
holds `repo_lock(repo)` around the whole operation. `asyncio.Lock` is not reentrant, so taking it
inside these functions would deadlock callers that compose several of them.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from paddock.domain.errors import Conflict, InvalidInput, PaddockError, Unavailable
from paddock.domain.generated import GENERATED_PATTERNS
from paddock.domain.names import is_valid_branch_name
from paddock.runtime import proctree

# Paddock's own git runs no hook and no fsmonitor. A worktree may belong to the sandbox's user
# (git would refuse it as "dubious ownership"): Paddock names the repository itself (Worktree).
SAFETY_CONFIG: tuple[str, ...] = (
    "-c",
    "core.hooksPath=/dev/null",
    "-c",
    "core.fsmonitor=false",
    "-c",
    "safe.directory=*",
)
FALLBACK_IDENTITY = {"user.name": "Paddock", "user.email": "paddock@localhost"}
# Ignore rules on top of a checkout's own, for commands that list untracked files (ls-files):
# generated files never count as changes (domain/generated.py).
GENERATED_EXCLUDES: tuple[str, ...] = tuple(f"--exclude={p}" for p in GENERATED_PATTERNS)

# Variables that would redirect git to another repository, index or config than the one we name.
_INHERITED_GIT_VARS = (
    "GIT_DIR",
    "GIT_WORK_TREE",
    "GIT_INDEX_FILE",
    "GIT_OBJECT_DIRECTORY",
    "GIT_ALTERNATE_OBJECT_DIRECTORIES",
    "GIT_COMMON_DIR",
    "GIT_NAMESPACE",
    "GIT_PREFIX",
    "GIT_CONFIG",
    "GIT_CONFIG_PARAMETERS",
    "GIT_CONFIG_COUNT",
    "GIT_IMPLICIT_WORK_TREE",
    "GIT_GRAFT_FILE",
    "GIT_SHALLOW_FILE",
    "GIT_REPLACE_REF_BASE",
    "GIT_INTERNAL_SUPER_PREFIX",
)


class GitError(PaddockError):
    """git exited non-zero. Carries the command line, exit status and stderr."""

    code = "git_failed"
    http_status = 500

    def __init__(self, command: Sequence[str], returncode: int, stderr: str) -> None:
        tail = stderr.strip().splitlines()[-3:]
        super().__init__(
            f"git {' '.join(command)} failed (exit {returncode}): "
            f"{' / '.join(tail) or 'no output'}",
            command=list(command),
            returncode=returncode,
            stderr=stderr,
        )
        self.command = list(command)
        self.returncode = returncode
        self.stderr = stderr


@dataclass(frozen=True)
class GitResult:
    command: list[str]
    returncode: int
    stdout: str
    stderr: str


@dataclass(frozen=True, slots=True)
class Worktree:
    """A linked worktree with its admin dir in the main repository. Git run on it never reads
    the worktree's own `.git` file: whatever ran in the worktree could have replaced it with a
    repository whose config runs commands (core.fsmonitor, filters, aliases)."""

    path: Path
    git_dir: Path


Where = Path | str | Worktree


@dataclass(frozen=True)
class RepoInfo:
    top_level: Path
    default_branch: str
    head_commit: str  # the commit checked out in the main checkout
    detached: bool = False  # the main checkout's HEAD is detached; default_branch is a fallback


def _env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in _INHERITED_GIT_VARS}
    env.update(GIT_TERMINAL_PROMPT="0", LC_ALL="C", GIT_OPTIONAL_LOCKS="0")
    # A git this server leaves running when it is killed is stopped by the next one (proctree).
    env[proctree.OWNER_VARIABLE] = proctree.owner_name()
    return env


async def run_git(
    cwd: Where | None,
    *args: str,
    check: bool = True,
    input: str | None = None,
    env: dict[str, str] | None = None,
    errors: str = "replace",
) -> GitResult:
    """Run `git <args>` in `cwd`, with `input` on stdin (else none) and `env` on top of the
    cleaned environment (e.g. a temporary GIT_INDEX_FILE). Raises GitError on a non-zero exit
    unless `check` is False. `errors="surrogateescape"` keeps file names that are not UTF-8
    as the file system has them (in and out)."""
    command = [*SAFETY_CONFIG, *args]
    if isinstance(cwd, Worktree):
        command = [*SAFETY_CONFIG, f"--git-dir={cwd.git_dir}", f"--work-tree={cwd.path}", *args]
        cwd = cwd.path
    try:
        proc = await asyncio.create_subprocess_exec(
            "git",
            *command,
            cwd=cwd,
            env={**_env(), **(env or {})},
            stdin=asyncio.subprocess.DEVNULL if input is None else asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
    except FileNotFoundError as exc:
        if cwd is not None and not _is_dir(cwd):
            raise InvalidInput(f"{cwd} is not a directory", code="path_missing") from exc
        raise Unavailable("git is not installed (no `git` on PATH)", code="git_missing") from exc
    try:
        out, err = await proc.communicate(None if input is None else input.encode(errors=errors))
    except BaseException:  # cancelled: do not leave git running behind us
        if proc.returncode is None:
            proc.kill()
            await asyncio.shield(proc.wait())
        raise
    assert proc.returncode is not None
    result = GitResult(
        list(args), proc.returncode, out.decode(errors=errors), err.decode(errors="replace")
    )
    if check and result.returncode != 0:
        raise GitError(result.command, result.returncode, result.stderr)
    return result


# --- locking -----------------------------------------------------------------------------------

_locks: dict[Path, tuple[asyncio.AbstractEventLoop, asyncio.Lock]] = {}


def repo_lock(repo: Path | str) -> asyncio.Lock:
    """The lock serialising mutations of one repository: `async with repo_lock(path): ...`.

    One lock per resolved path and event loop (a lock cannot be shared across loops)."""
    loop = asyncio.get_running_loop()
    key = Path(repo).resolve()
    entry = _locks.get(key)
    if entry is None or entry[0] is not loop:
        for stale in [k for k, (other, _) in _locks.items() if other.is_closed()]:
            del _locks[stale]
        entry = (loop, asyncio.Lock())
        _locks[key] = entry
    return entry[1]


# --- reading -----------------------------------------------------------------------------------


async def git_version() -> str:
    out = (await run_git(None, "--version")).stdout.strip()
    return out.removeprefix("git version ").strip()


async def inspect_repo(path: Path | str) -> RepoInfo:
    """Validate that `path` is a non-bare repository with commits and describe it."""
    where = _existing_dir(path)
    probe = await run_git(where, "rev-parse", "--is-bare-repository", check=False)
    if probe.returncode != 0:
        if "dubious ownership" in probe.stderr:
            raise InvalidInput(
                f"{where} is owned by another user; git refuses it (see git's safe.directory)",
                code="dubious_ownership",
                path=str(where),
            )
        raise InvalidInput(f"{where} is not a git repository", code="not_a_git_repo")
    if probe.stdout.strip() == "true":
        raise InvalidInput(f"{where} is a bare repository; use a checkout", code="bare_repo")
    top = await run_git(where, "rev-parse", "--show-toplevel", "--git-common-dir", check=False)
    if top.returncode != 0:  # e.g. inside the .git directory of a checkout
        raise InvalidInput(f"{where} is not inside a git work tree", code="not_a_git_repo")
    top_level, common = top.stdout.splitlines()[:2]
    git_dir = f"--git-dir={(where / common).resolve()}"  # HEAD of the main checkout
    head = await run_git(
        where, git_dir, "rev-parse", "--verify", "-q", "HEAD^{commit}", check=False
    )
    if head.returncode != 0:
        raise InvalidInput(f"{top_level} has no commits yet", code="no_commits")
    ref = await run_git(where, git_dir, "symbolic-ref", "-q", "HEAD", check=False)
    name = ref.stdout.strip()
    if ref.returncode == 0 and name.startswith("refs/heads/"):
        branch, detached = name.removeprefix("refs/heads/"), False
    else:
        candidates = [b for b in ("main", "master") if await branch_exists(where, b)]
        if not candidates:
            raise InvalidInput(
                f"{top_level} has a detached HEAD and no main or master branch; check out a branch",
                code="detached_head",
            )
        branch, detached = candidates[0], True
    return RepoInfo(Path(top_level), branch, head.stdout.strip(), detached)


async def branch_exists(repo: Path | str, name: str) -> bool:
    result = await run_git(repo, "rev-parse", "--verify", "-q", f"refs/heads/{name}", check=False)
    return result.returncode == 0


async def list_branches(repo: Path | str) -> list[str]:
    """Local branch names, most recently committed first."""
    result = await run_git(
        repo, "for-each-ref", "--sort=-committerdate", "--format=%(refname:short)", "refs/heads"
    )
    return [line for line in result.stdout.splitlines() if line]


async def rev_parse(repo: Where, rev: str) -> str:
    """The commit sha `rev` names. InvalidInput `unknown_ref` when it names no commit."""
    result = await run_git(
        repo, "rev-parse", "--verify", "-q", "--end-of-options", f"{rev}^{{commit}}", check=False
    )
    if not rev or result.returncode != 0:
        raise InvalidInput(f"unknown revision {rev!r}", code="unknown_ref", rev=rev)
    return result.stdout.strip()


async def resolve_revs(repo: Path | str, *revs: str) -> list[str | None]:
    """The object id each of `revs` names, None where it names nothing, from one git process
    (`cat-file --batch-check`; the names go on stdin, so none can pass for an option)."""
    asked = [rev for rev in revs if rev and "\n" not in rev]
    out = await run_git(
        repo, "cat-file", "--batch-check=%(objectname)", input="".join(f"{r}\n" for r in asked)
    )
    # One line per name: its id, or "<name> missing" / "<name> ambiguous" (ids have no space).
    ids = {rev: line for rev, line in zip(asked, out.stdout.splitlines(), strict=True)}
    return [ids[rev] if rev in ids and " " not in ids[rev] else None for rev in revs]


async def read_file_at(repo: Path | str, rev: str, path: str) -> str | None:
    """The text of `path` (relative to the repository root) at `rev`; None if there is no such file.

    Uses `cat-file`, which never runs textconv or filter drivers."""
    commit = await rev_parse(repo, rev)
    spec = f"{commit}:{PurePosixPath(path).as_posix().removeprefix('./')}"
    kind = await run_git(repo, "cat-file", "-t", spec, check=False)
    if kind.returncode != 0 or kind.stdout.strip() != "blob":
        return None
    return (await run_git(repo, "cat-file", "blob", spec)).stdout


# --- mutating (hold repo_lock) -----------------------------------------------------------------


async def archive(repo: Path | str, commit: str, dest: Path, *, prefix: str) -> Path:
    """A zip of `commit`'s tree at `dest`, every path under `prefix`, made from the
    repository's objects (nothing of a working tree is read)."""
    await run_git(repo, "archive", "--format=zip", f"--prefix={prefix}", "-o", str(dest), commit)
    return dest


def check_branch_name(name: str) -> None:
    """InvalidInput `invalid_branch` unless `name` is a branch name git takes, not an option."""
    if not is_valid_branch_name(name) or name.startswith("-"):
        raise InvalidInput(f"invalid branch name {name!r}", code="invalid_branch", branch=name)


async def identity_args(cwd: Where) -> list[str]:
    """`-c user.name=... -c user.email=...` for whichever of the two git has no value for."""
    args: list[str] = []
    for key, fallback in FALLBACK_IDENTITY.items():
        got = await run_git(cwd, "config", "--get", key, check=False)
        if got.returncode != 0 or not got.stdout.strip():
            args += ["-c", f"{key}={fallback}"]
    return args


async def commit_tree(where: Where, tree: str, parents: Sequence[str], message: str) -> str:
    """A new commit of `tree` on `parents`, made without touching any checkout or ref."""
    args = [*(await identity_args(where)), "commit-tree", tree]
    for parent in parents:
        args += ["-p", parent]
    result = await run_git(where, *args, "-F", "-", input=message)
    return result.stdout.strip()


async def has_changes(where: Where) -> bool:
    """Whether the checkout holds uncommitted changes. Untracked files count, but those its
    ignore rules or the generated files' patterns ignore (GENERATED_EXCLUDES)."""
    tracked = await run_git(where, "status", "--porcelain", "--untracked-files=no")
    if tracked.stdout.strip():
        return True
    others = await run_git(
        where,
        "ls-files",
        "-z",
        "--others",
        "--exclude-standard",
        *GENERATED_EXCLUDES,
        "--directory",
        "--no-empty-directory",
    )
    return bool(others.stdout)


async def init_repo(
    path: Path | str,
    files: dict[str, str] | None = None,
    branch: str = "main",
    message: str = "Initial commit",
) -> RepoInfo:
    """Create a repository at `path` with `files` (relative path -> text) in a first commit.

    The directory may exist (what it holds is committed too) but must not be a repository yet."""
    check_branch_name(branch)
    where = _prepare_new_repo_dir(path, files or {})
    await run_git(where, "init", "-q", "-b", branch)
    await asyncio.to_thread(_write_files, where, files or {})
    await run_git(where, "add", "-A")
    identity = await identity_args(where)
    await run_git(where, *identity, "commit", "-q", "--no-verify", "--allow-empty", "-m", message)
    return await inspect_repo(where)


async def delete_branch(repo: Path | str, name: str, force: bool = False) -> bool:
    """Delete a local branch. False if it did not exist; GitError if git refuses (e.g. in use)."""
    check_branch_name(name)
    if not await branch_exists(repo, name):
        return False
    await run_git(repo, "branch", "-D" if force else "-d", "--", name)
    return True


async def reset_to(worktree: Where, commit: str) -> None:
    """Put the worktree (its branch, index and files) back to `commit`. Untracked files go too;
    ignored ones (dependencies, .env) stay."""
    await run_git(worktree, "reset", "-q", "--hard", commit)
    await run_git(worktree, "clean", "-q", "-fd")


# --- file system (small synchronous checks) ----------------------------------------------------


def _is_dir(path: Path | str) -> bool:
    return Path(path).is_dir()


def path_exists(path: Path) -> bool:
    """True if anything is at `path`, a dangling symlink included."""
    return path.exists() or path.is_symlink()


def _existing_dir(path: Path | str) -> Path:
    where = Path(path).expanduser()
    if not where.is_dir():
        what = "does not exist" if not where.exists() else "is not a directory"
        raise InvalidInput(f"{where} {what}", code="path_missing", path=str(where))
    return where


def _prepare_new_repo_dir(path: Path | str, files: dict[str, str]) -> Path:
    where = Path(path).expanduser().absolute()
    for rel in files:
        pure = PurePosixPath(rel)
        if not pure.parts or pure.is_absolute() or ".." in pure.parts or ".git" in pure.parts:
            raise InvalidInput(f"invalid file path {rel!r}", code="invalid_path", path=rel)
    if path_exists(where / ".git"):
        raise Conflict(f"{where} already holds a git repository", code="repo_exists")
    where.mkdir(parents=True, exist_ok=True)
    return where


def _write_files(where: Path, files: dict[str, str]) -> None:
    for rel, text in files.items():
        target = where.joinpath(*PurePosixPath(rel).parts)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
