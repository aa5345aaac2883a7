"""Generated files: what running a project leaves in a worktree that must never reach a commit.

Test runs, previews and tools leave caches in the worktree (`__pycache__/`, `node_modules/`,
an editor's `.DS_Store`...). A project's `.gitignore` usually names them; a project without one
(a fresh repository, the demo before it had one) would see them committed by the next
auto-commit and merged into its base branch. So Paddock ignores the patterns below on top of
the project's own ignore rules wherever it decides what a worktree changed: auto-commit, the
Diff tab, Commit in the Diff tab, whether a worktree is clean enough to merge or rebase.

They are gitignore patterns and apply to untracked files only, as `.gitignore` does: a file the
project committed on purpose (a vendored `node_modules/` file) is still committed when it
changes. A project that wants a new file matching one of them committed commits it by hand.

Besides, the processes that run the project's code to look at it (its dev server, its tests,
its openapi script) are told not to write Python bytecode at all. pytest, mypy and ruff put a
`.gitignore` of their own into their cache folders, so git ignores those anyway.
"""

from __future__ import annotations

from paddock.domain.states import RunReason

GENERATED_PATTERNS: tuple[str, ...] = (
    # Python
    "__pycache__/",
    "*.py[cod]",
    ".pytest_cache/",
    ".mypy_cache/",
    ".ruff_cache/",
    ".hypothesis/",
    ".tox/",
    ".nox/",
    ".venv/",
    ".coverage",
    ".coverage.*",
    # JavaScript
    "node_modules/",
    ".next/",
    ".nuxt/",
    ".svelte-kit/",
    ".parcel-cache/",
    ".turbo/",
    ".eslintcache",
    # agent CLIs (Aider's repository map)
    ".aider.tags.cache.v*/",
    # operating systems
    ".DS_Store",
    "Thumbs.db",
)

# Ignored paths listed in a diff: git names a wholly ignored folder once (`node_modules/`), so
# this is rarely reached; past it the list says how many more there are.
MAX_IGNORED_LISTED = 200

# The processes that run the project's code to look at it: they write no bytecode.
_LOOKING = frozenset(
    {
        RunReason.dev_server,
        RunReason.unit_test,
        RunReason.e2e_test,
        RunReason.openapi,
        RunReason.screenshot,
    }
)


def generated_free_env(reason: RunReason) -> dict[str, str]:
    """What a process run for `reason` is given so that it leaves no generated files in the
    worktree: Python writes no `__pycache__` (agents and setup scripts are left as they are:
    their caches are ignored, not prevented)."""
    return {"PYTHONDONTWRITEBYTECODE": "1"} if reason in _LOOKING else {}
