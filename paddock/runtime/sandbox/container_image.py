"""Paddock's base image for the container sandbox, built locally: no registry needed.

A minimal Debian (`debootstrap --variant=minbase`, which already has bash, coreutils, sed,
grep, tar, gzip, findutils, util-linux) plus what a sandboxed command usually reaches for: git,
python3, procps (`ps`) and ca-certificates. The root filesystem is cached as a tarball outside
the clone (`~/.cache/paddock/`), keyed by suite, mirror and packages, so a rebuild of the image
(a new machine user, `podman system reset`) takes seconds instead of a debootstrap.

    python -m paddock.runtime.sandbox.container_image rootfs           # prints the cached tarball
    python -m paddock.runtime.sandbox.container_image build [--socket URL] [--image NAME]

`build` imports through the Docker Engine API when a socket is given (or DOCKER_HOST is set),
else with the local `podman import`.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

DEFAULT_IMAGE = "paddock-base:bookworm"
SUITE = "bookworm"
MIRROR = "http://deb.debian.org/debian"
PACKAGES = ("git", "python3", "procps", "ca-certificates")
# The image's configuration: imported root filesystems carry none.
CHANGES = (
    "ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
    "ENV LANG=C.UTF-8",
    'CMD ["/bin/bash"]',
)


class ImageBuildError(RuntimeError):
    pass


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "paddock"


def rootfs_key(
    suite: str = SUITE, mirror: str = MIRROR, packages: tuple[str, ...] = PACKAGES
) -> str:
    text = "\n".join([suite, mirror, *sorted(packages)])
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def rootfs_tarball(
    cache: Path | None = None,
    *,
    suite: str = SUITE,
    mirror: str = MIRROR,
    packages: tuple[str, ...] = PACKAGES,
) -> Path:
    """The root filesystem as a tarball: from the cache, else made with debootstrap (root)."""
    cache = cache or cache_dir()
    tarball = cache / f"rootfs-{suite}-{rootfs_key(suite, mirror, packages)}.tar"
    if tarball.is_file():
        return tarball
    debootstrap = shutil.which("debootstrap")
    if debootstrap is None:
        raise ImageBuildError("debootstrap is not installed (apt-get install debootstrap)")
    if os.geteuid() != 0:
        raise ImageBuildError("building the root filesystem with debootstrap needs root")
    cache.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="rootfs-", dir=cache))
    try:
        rootfs = work / "rootfs"
        include = ",".join(packages)
        _run(
            [debootstrap, "--variant=minbase", f"--include={include}", suite, str(rootfs), mirror],
            "debootstrap",
        )
        for leftover in ("var/cache/apt/archives", "var/lib/apt/lists"):
            for entry in (rootfs / leftover).glob("*"):
                if entry.is_file():
                    entry.unlink()
        partial = work / "rootfs.tar"
        _run(
            [
                "tar",
                "--numeric-owner",
                "--exclude=./dev/*",
                "--exclude=./proc/*",
                "--exclude=./sys/*",
                "-C",
                str(rootfs),
                "-cf",
                str(partial),
                ".",
            ],
            "tar",
        )
        os.replace(partial, tarball)  # atomic: a half-written tarball is never cached
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return tarball


def _run(argv: list[str], what: str) -> None:
    done = subprocess.run(argv, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        tail = (done.stdout + done.stderr).strip()[-2000:]
        raise ImageBuildError(f"{what} failed (exit {done.returncode}): {tail}")


def import_with_podman(tarball: Path, image: str = DEFAULT_IMAGE) -> None:
    podman = shutil.which("podman")
    if podman is None:
        raise ImageBuildError("podman is not installed")
    changes = [arg for change in CHANGES for arg in ("--change", change)]
    _run([podman, "import", "--quiet", *changes, str(tarball), image], "podman import")


def import_with_api(client: Any, tarball: Path, image: str = DEFAULT_IMAGE) -> None:
    """Import through the Docker Engine API (Docker, or Podman's compatible service)."""
    # The whole reference as `repo` (both engines accept a tag in it; Podman ignores `tag`).
    client.api.import_image(src=str(tarball), repository=image, changes=CHANGES)


def build_base_image(
    client: Any | None = None, image: str = DEFAULT_IMAGE, cache: Path | None = None
) -> Path:
    """Build `image` from the (cached) root filesystem: through `client` (a
    `docker.DockerClient`) when given, else with `podman import`. Returns the tarball used."""
    tarball = rootfs_tarball(cache)
    if client is not None:
        import_with_api(client, tarball, image)
    else:
        import_with_podman(tarball, image)
    return tarball


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m paddock.runtime.sandbox.container_image")
    parser.add_argument("--cache", type=Path, default=None, help="default: ~/.cache/paddock")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("rootfs", help="make (or find) the cached root filesystem tarball")
    build = sub.add_parser("build", help="build the base image")
    build.add_argument("--image", default=DEFAULT_IMAGE)
    build.add_argument("--socket", default=None, help="Docker Engine API URL (unix://...)")
    args = parser.parse_args(argv)
    try:
        if args.command == "rootfs":
            print(rootfs_tarball(args.cache))
            return 0
        client = None
        if args.socket or os.environ.get("DOCKER_HOST"):
            from paddock.runtime.sandbox.container_engine import connect

            client = connect(args.socket)
        print(build_base_image(client, args.image, args.cache))
    except ImageBuildError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
