"""The text files of a commit, read from git's objects: what a version holds, for checks that
look at its code (deploy readiness, secret scanning).

The files come from the commit's tree, never from a checkout: an agent controls its worktree
and could put a symlink there (`config.txt -> /etc/passwd`) that a file read would follow out of
the tree. In the tree a symlink is a blob holding its target's name (mode 120000); it is left
out, as are submodules (160000, a commit id, no blob). Only regular files (100644, 100755) are
read.

Limits, because the commit is hostile input: a blob over `max_file_bytes` is skipped, and the
sum of what is read stays under `max_total_bytes`. The sizes come from `ls-tree --long`, so an
oversized blob is never read at all. The budget goes to shallow paths first (the README,
package.json and .env.example at the root matter more to a check than the 900th source file),
and files whose extension says binary (images, fonts, archives) do not spend it. What is read
and turns out binary (a NUL byte, or not UTF-8) is dropped. Paths that are not UTF-8 are skipped:
they could not be shown or reported as text.

Two git processes in all: `ls-tree -r -z --long` (NUL-separated, so a name may hold newlines,
quotes or tabs) and one `cat-file --batch` fed the object ids.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from paddock.runtime.git.commands import rev_parse, run_git

REGULAR_MODES = frozenset({"100644", "100755"})
# Extensions whose files are binary: not worth reading, nor spending the byte budget on.
BINARY_EXTENSIONS = frozenset(
    {
        ".png", ".jpg", ".jpeg", ".gif", ".webp", ".ico", ".bmp", ".tif", ".tiff", ".avif",
        ".woff", ".woff2", ".ttf", ".otf", ".eot",
        ".zip", ".gz", ".tgz", ".bz2", ".xz", ".7z", ".rar", ".jar", ".whl",
        ".pdf", ".mp3", ".mp4", ".mov", ".webm", ".wav", ".ogg",
        ".so", ".dylib", ".dll", ".exe", ".pyc", ".class", ".wasm", ".sqlite", ".db",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _Blob:
    path: str
    oid: str
    size: int


async def files_at(
    repo: Path | str,
    commit: str,
    *,
    max_file_bytes: int = 512_000,
    max_total_bytes: int = 16_000_000,
) -> dict[str, str]:
    """The regular text files of `commit` in `repo`: repository-relative `/`-separated path ->
    text, sorted by path. InvalidInput `unknown_ref` when `commit` names no commit."""
    sha = await rev_parse(repo, commit)
    listing = await run_git(
        repo, "ls-tree", "-r", "-z", "--long", "--full-tree", sha, errors="surrogateescape"
    )
    blobs = _within_budget(_regular_blobs(listing.stdout, max_file_bytes), max_total_bytes)
    if not blobs:
        return {}
    contents = await _read_blobs(repo, [b.oid for b in blobs])
    files: dict[str, str] = {}
    for blob in blobs:
        text = _as_text(contents.get(blob.oid))
        if text is not None:
            files[blob.path] = text
    return dict(sorted(files.items()))


def _regular_blobs(listing: str, max_file_bytes: int) -> list[_Blob]:
    """The entries of `ls-tree -r -z --long` output that are regular files small enough to
    read, with a UTF-8 path and an extension that is not a binary one."""
    blobs: list[_Blob] = []
    for entry in listing.split("\0"):
        meta, tab, path = entry.partition("\t")
        fields = meta.split()
        if not tab or len(fields) != 4:
            continue
        mode, kind, oid, size = fields
        if mode not in REGULAR_MODES or kind != "blob" or not size.isdigit():
            continue
        if int(size) > max_file_bytes or not _is_utf8(path) or _looks_binary(path):
            continue
        blobs.append(_Blob(path, oid, int(size)))
    return blobs


def _within_budget(blobs: list[_Blob], max_total_bytes: int) -> list[_Blob]:
    """The blobs to read, shallowest paths first, until their sizes reach `max_total_bytes`."""
    chosen: list[_Blob] = []
    total = 0
    for blob in sorted(blobs, key=lambda b: (b.path.count("/"), b.path)):
        if total + blob.size > max_total_bytes:
            break
        chosen.append(blob)
        total += blob.size
    return chosen


async def _read_blobs(repo: Path | str, oids: list[str]) -> dict[str, bytes]:
    """Each object's bytes by id, from one `cat-file --batch`. The output holds raw bytes;
    decoding it with surrogateescape and encoding it back gives them exactly."""
    wanted = list(dict.fromkeys(oids))
    result = await run_git(
        repo, "cat-file", "--batch", input="".join(f"{o}\n" for o in wanted),
        errors="surrogateescape",
    )  # fmt: skip
    return _parse_batch(result.stdout.encode("utf-8", errors="surrogateescape"))


def _parse_batch(out: bytes) -> dict[str, bytes]:
    """`<oid> <type> <size>\\n<content>\\n` records (or `<name> missing\\n`), one per input."""
    found: dict[str, bytes] = {}
    at = 0
    while at < len(out):
        end = out.find(b"\n", at)
        if end < 0:
            break
        header = out[at:end].split()
        at = end + 1
        if len(header) != 3 or not header[2].isdigit():
            continue  # "missing" / "ambiguous": no content follows
        size = int(header[2])
        found[header[0].decode("ascii")] = out[at : at + size]
        at += size + 1
    return found


def _as_text(data: bytes | None) -> str | None:
    if data is None or b"\0" in data:
        return None
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None


def _is_utf8(path: str) -> bool:
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:  # a surrogate: the name's bytes were not UTF-8
        return False
    return True


def _looks_binary(path: str) -> bool:
    return PurePosixPath(path).suffix.lower() in BINARY_EXTENSIONS
