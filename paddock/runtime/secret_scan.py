"""Hard-coded secrets in an app's files, found by Yelp's detect-secrets: its default plugins
(AWS, GitHub, Stripe, Slack, private keys, JWTs, basic-auth URLs, keyword assignments,
high-entropy strings ...) with its default heuristic filters (UUIDs, sequences, templated
values, lockfiles, ...).

detect-secrets scans files on disk, so each file is copied into a private temporary directory
(mode 0700, deleted afterwards) under its own base name, which the plugins and filters read
(a `.py` is scanned as Python, `package-lock.json` is recognised as a lockfile). The agent's
worktree is never read or written: the files come in as text (read from git objects by
runtime/git/tree_files.py).

Left out, on purpose:

- lockfiles (package-lock.json, yarn.lock, pnpm-lock.yaml, poetry.lock, uv.lock ...): their
  integrity hashes look like high-entropy tokens and hold no secret. detect-secrets skips
  some; the list here adds the ones it does not know.
- in an env template (`.env.example`, `.env.sample`, `.env.template`), the values that are
  placeholders (`your-api-key`, `changeme`, `<token>`, `postgres://user:password@...`): such a
  file exists to show names with made-up values. A value that looks real (an AWS key, a
  private key, a random token) is still reported there: pasting the real key into the example
  is a common leak.

detect-secrets keeps its settings in a process-wide object; scans are serialised by a lock so
two threads do not change it under each other.

A finding carries the path, the line and the kind of secret, never the value: the report must
not become the leak.
"""

from __future__ import annotations

import re
import tempfile
import threading
from collections.abc import Mapping
from pathlib import Path, PurePosixPath

from paddock.domain.builder.deploy import SecretFinding

LOCKFILES = frozenset(
    {
        "package-lock.json",
        "npm-shrinkwrap.json",
        "yarn.lock",
        "pnpm-lock.yaml",
        "bun.lock",
        "poetry.lock",
        "uv.lock",
        "pdm.lock",
        "Pipfile.lock",
        "Cargo.lock",
        "Gemfile.lock",
        "composer.lock",
        "go.sum",
    }
)
ENV_TEMPLATES = frozenset({".env.example", ".env.sample", ".env.template", "example.env"})
# Words that mark a value as made up, in an env template.
_PLACEHOLDER = re.compile(
    r"example|your|change.?me|replace|placeholder|dummy|sample|secret|password|passwd|token|"
    r"xxx|\.\.\.|<|>|\{|\}|todo|fixme|here|fake|demo|^(.)\1*$",
    re.IGNORECASE,
)
_MAX_NAME_BYTES = 200  # under the usual 255-byte limit for a file name

_lock = threading.Lock()


def scan_for_secrets(files: Mapping[str, str]) -> list[SecretFinding]:
    """Every secret detect-secrets finds in `files` (path -> text), sorted by path and line.

    Blocking (file writes, CPU, a process-wide lock): call it from async code through
    `asyncio.to_thread`."""
    # Imported here: the library costs ~20 MB, and an idle server never scans.
    from detect_secrets.settings import default_settings

    scanned = {path: text for path, text in files.items() if not is_lockfile(path)}
    if not scanned:
        return []
    with _lock, tempfile.TemporaryDirectory(prefix="paddock-secrets-") as tmp:
        copies = _write_copies(Path(tmp), scanned)
        with default_settings():
            findings = [
                finding for copy, path in copies.items() for finding in _scan_copy(copy, path)
            ]
    return sorted(set(findings), key=lambda f: (f.path, f.line, f.kind))


def is_lockfile(path: str) -> bool:
    return PurePosixPath(path).name in LOCKFILES


def is_env_template(path: str) -> bool:
    return PurePosixPath(path).name in ENV_TEMPLATES


def _scan_copy(copy: Path, path: str) -> list[SecretFinding]:
    from detect_secrets.core.scan import scan_file

    found: list[SecretFinding] = []
    for secret in scan_file(str(copy)):
        value = secret.secret_value or ""
        if is_env_template(path) and _PLACEHOLDER.search(value):
            continue
        found.append(SecretFinding(path=path, line=secret.line_number, kind=secret.type))
    return found


def _write_copies(root: Path, files: Mapping[str, str]) -> dict[Path, str]:
    """Each file written as `<root>/<n>/<its base name>`: the repository's folders are not
    recreated, so no path from the agent decides where a copy goes. The text is written as is
    (newline="" keeps its line endings, so line numbers match)."""
    copies: dict[Path, str] = {}
    for number, (path, text) in enumerate(files.items()):
        folder = root / str(number)
        folder.mkdir()
        copy = folder / _safe_name(PurePosixPath(path).name)
        with copy.open("w", encoding="utf-8", errors="surrogatepass", newline="") as out:
            out.write(text)
        copies[copy] = path
    return copies


def _safe_name(name: str) -> str:
    """`name`, or when it is too long for a file system, a short name with its extension."""
    if (
        name
        and name not in {".", ".."}
        and len(name.encode("utf-8", "surrogatepass")) <= _MAX_NAME_BYTES
    ):
        return name
    suffix = PurePosixPath(name).suffix
    return f"file{suffix if len(suffix) < 20 else ''}"
