"""The artifact store: files processes leave in their artifact folder, kept by id.

Every process gets an empty folder (`PADDOCK_ARTIFACTS`) that its sandbox may write. When it
ends, what it left there is copied into `<data_dir>/artifacts/<id[:2]>/<id>` with its size, media
type and sha256, and the folder is removed. The sandbox wrote that folder: the copy follows no
symlink, reads only regular files, and keeps within the size and count limits. A stored file is
found by its id alone, so no name a process chose can lead outside the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import os
import shutil
from collections.abc import Generator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session

from paddock.domain.artifact import (
    JUNIT_DIR,
    SPEC_DIR,
    Artifact,
    ArtifactKind,
    artifact_kind,
    check_name,
    mime_type,
)
from paddock.domain.entities import Attempt
from paddock.domain.names import new_id
from paddock.runtime import safefs
from paddock.services.context import Context, log
from paddock.store import artifacts as store
from paddock.store.tables.base import utcnow

CHUNK = 1 << 20
CLEANUP_EVERY_S = 3600.0


@dataclass(frozen=True, slots=True)
class Collected:
    artifacts: list[Artifact]
    skipped: list[str]  # why files were left out (links, limits)


def _copy_regular(entry: safefs.Entry, target: Path, limit: int) -> tuple[int, str] | None:
    """Copy a regular file (never through a link, never a fifo or device) up to `limit`
    bytes; its size and sha256, or None when it is not a regular file or is too large."""
    try:
        src = entry.open()
    except (OSError, safefs.UnsafePath):
        return None
    with src:
        if os.fstat(src.fileno()).st_size > limit:
            return None
        target.parent.mkdir(parents=True, exist_ok=True)
        digest = hashlib.sha256()
        size = 0
        with target.open("wb") as dst:
            while chunk := src.read(CHUNK):
                size += len(chunk)
                if size > limit:  # it grew after the stat
                    dst.close()
                    target.unlink()
                    return None
                digest.update(chunk)
                dst.write(chunk)
        return size, digest.hexdigest()


class ArtifactService:
    def __init__(self, ctx: Context) -> None:
        self.ctx = ctx
        self.root = ctx.settings.storage.data_dir / "artifacts"
        self.staging = ctx.settings.storage.data_dir / "artifact-staging"
        self._loop: asyncio.Task[None] | None = None

    # -- a process's folder ---------------------------------------------------------------------

    def folder(self, process_id: str) -> Path:
        return self.staging / process_id

    def prepare(self, process_id: str, *, sandboxed: bool) -> Path:
        """Blocking: the process's empty artifact folder, with `junit/` (JUNIT_OUTPUT) and
        `spec/` (OPENAPI_OUTPUT) ready, so a script need not make them."""
        folder = self.folder(process_id)
        for sub in (JUNIT_DIR, SPEC_DIR):
            (folder / sub).mkdir(parents=True, exist_ok=True)
        if sandboxed:
            self.ctx.sandboxes.hand_over(folder)
        return folder

    def path_of(self, artifact_id: str) -> Path:
        check_name(artifact_id)
        return self.root / artifact_id[:2] / artifact_id

    async def collect(self, attempt_id: str, process_id: str) -> Collected:
        """Keep what the process left in its folder, then remove the folder."""
        collected = await asyncio.to_thread(self._copy_folder, attempt_id, process_id)
        if collected.artifacts:
            await self.ctx.db.run(lambda s: store.add_artifacts(s, collected.artifacts))
        return collected

    def _copy_folder(self, attempt_id: str, process_id: str) -> Collected:
        folder = self.folder(process_id)
        settings = self.ctx.settings
        budget = settings.artifacts.max_mb * 1024 * 1024
        kept: list[Artifact] = []
        skipped: list[str] = []
        try:
            # The sandbox wrote the folder: it is walked and read from directory fds, and no
            # link in it is followed (safefs).
            for entry in safefs.walk(folder):
                name = entry.path
                if entry.is_dir:
                    continue
                if len(kept) >= settings.artifacts.max_files:
                    skipped.append(f"{name}: more than {settings.artifacts.max_files} files")
                    continue
                artifact_id = new_id()
                copied = _copy_regular(entry, self.path_of(artifact_id), budget)
                if copied is None:
                    skipped.append(f"{name}: not a regular file, or over the size limit")
                    continue
                size, sha = copied
                budget -= size
                kept.append(
                    Artifact(
                        id=artifact_id,
                        attempt_id=attempt_id,
                        process_id=process_id,
                        name=name,
                        kind=artifact_kind(name),
                        size=size,
                        mime_type=mime_type(name),
                        sha256=sha,
                        created_at=utcnow(),
                    )
                )
        except FileNotFoundError:
            pass  # the process never got its folder
        except (OSError, safefs.UnsafePath) as exc:
            skipped.append(f"the rest of the folder: {exc}")
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        return Collected(kept, skipped)

    async def add(
        self,
        attempt_id: str,
        name: str,
        data: bytes,
        kind: ArtifactKind,
        process_id: str | None = None,
    ) -> Artifact:
        """Keep `data` Paddock itself produced (a spec fetched from a preview)."""
        artifact = Artifact(
            id=new_id(),
            attempt_id=attempt_id,
            process_id=process_id,
            name=check_name(name),
            kind=kind,
            size=len(data),
            mime_type=mime_type(name),
            sha256=hashlib.sha256(data).hexdigest(),
            created_at=utcnow(),
        )
        path = self.path_of(artifact.id)

        def write() -> None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)

        await asyncio.to_thread(write)
        await self.ctx.db.run(lambda s: store.add_artifacts(s, [artifact]))
        return artifact

    # -- reading ----------------------------------------------------------------------------------

    async def get(self, artifact_id: str) -> Artifact:
        return await self.ctx.db.run(lambda s: store.get_artifact(s, artifact_id))

    async def by_name(self, process_id: str, name: str) -> Artifact | None:
        check_name(name)
        return await self.ctx.db.run(lambda s: store.find_by_name(s, process_id, name))

    async def list_for_process(self, process_id: str) -> list[Artifact]:
        return await self.ctx.db.run(lambda s: store.list_for_process(s, process_id))

    async def list_for_attempt(
        self, attempt_id: str, kind: ArtifactKind | None = None
    ) -> list[Artifact]:
        return await self.ctx.db.run(lambda s: store.list_for_attempt(s, attempt_id, kind))

    async def read(self, artifact: Artifact) -> bytes:
        return await asyncio.to_thread(self.path_of(artifact.id).read_bytes)

    def chunks(self, artifact: Artifact, size: int = CHUNK) -> Generator[bytes]:
        """Blocking: the stored file, `size` bytes at a time, for a parser that may stop early
        (close the iterator when it does)."""
        with self.path_of(artifact.id).open("rb") as fh:
            while chunk := fh.read(size):
                yield chunk

    # -- removing ---------------------------------------------------------------------------------

    async def delete(self, artifact_id: str) -> Artifact:
        artifact = await self.ctx.db.run(lambda s: store.delete_artifact(s, artifact_id))
        await asyncio.to_thread(self._unlink, [artifact_id])
        return artifact

    def _unlink(self, ids: list[str]) -> None:
        for artifact_id in ids:
            with contextlib.suppress(FileNotFoundError):
                self.path_of(artifact_id).unlink()

    async def forget_attempt(self, attempt: Attempt) -> None:
        """The files of an attempt that is being deleted (its rows go with it)."""
        attempt_id = attempt.id

        def remove(session: Session) -> list[str]:
            ids = store.ids_of_attempt(session, attempt_id)
            store.delete_ids(session, ids)
            return ids

        ids = await self.ctx.db.run(remove)
        await asyncio.to_thread(self._unlink, ids)

    async def remove_expired(self) -> int:
        """Artifacts older than the retention setting, in batches; how many went."""
        days = self.ctx.settings.artifacts.retention_days
        if days <= 0:
            return 0
        cutoff = utcnow() - timedelta(days=days)
        removed = 0
        while True:

            def expire(session: Session) -> list[str]:
                ids = store.older_than(session, cutoff)
                store.delete_ids(session, ids)
                return ids

            ids = await self.ctx.db.run(expire)
            if not ids:
                return removed
            await asyncio.to_thread(self._unlink, ids)
            removed += len(ids)

    def clear_staging(self) -> None:
        """Blocking, at start-up: folders of processes a stopped server ran (none runs now)."""
        shutil.rmtree(self.staging, ignore_errors=True)

    def start_loop(self) -> None:
        self._loop = asyncio.get_running_loop().create_task(self._cleanup_loop())

    async def _cleanup_loop(self) -> None:
        while True:
            try:
                removed = await self.remove_expired()
                if removed:
                    log.info("removed %d artifacts past their retention", removed)
            except Exception:
                log.exception("artifact cleanup failed")
            await asyncio.sleep(CLEANUP_EVERY_S)

    async def close(self) -> None:
        if self._loop is not None:
            self._loop.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop
