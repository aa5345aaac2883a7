"""Copy the front-end files Paddock serves from node_modules/ to paddock/web/static/vendor/.

Called by scripts/install after `npm ci`. The packages and their versions are pinned in the
root package.json and package-lock.json; nothing is loaded from a CDN at run time. A file that
is missing (a package changed its layout) fails the install loudly, naming the file. Files that
are already up to date are left alone, so a second run costs a few milliseconds.
"""

from __future__ import annotations

import filecmp
import os
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
NODE_MODULES = ROOT / "node_modules"
VENDOR = ROOT / "paddock" / "web" / "static" / "vendor"

# source, under node_modules/  ->  destination, under paddock/web/static/vendor/
ASSETS: dict[str, str] = {
    "swagger-ui-dist/swagger-ui-bundle.js": "swagger-ui/swagger-ui-bundle.js",
    "swagger-ui-dist/swagger-ui.css": "swagger-ui/swagger-ui.css",
    "swagger-ui-dist/swagger-ui-standalone-preset.js": "swagger-ui/swagger-ui-standalone-preset.js",
    "swagger-ui-dist/favicon-32x32.png": "swagger-ui/favicon-32x32.png",
    "htmx.org/dist/htmx.min.js": "htmx/htmx.min.js",
    "htmx-ext-sse/dist/sse.js": "htmx/sse.js",
    "sortablejs/Sortable.min.js": "sortable/Sortable.min.js",
}
# Nice to have: copied when the package ships it, skipped quietly when it does not.
OPTIONAL = frozenset({"swagger-ui-dist/favicon-32x32.png"})


def vendor(node_modules: Path = NODE_MODULES, vendor_dir: Path = VENDOR) -> tuple[int, int]:
    """Copy every asset; return (copied, unchanged). Raise FileNotFoundError naming the missing."""
    missing = [src for src in ASSETS if src not in OPTIONAL and not (node_modules / src).is_file()]
    if missing:
        raise FileNotFoundError(
            "missing in node_modules/ (did `npm ci` run? did a package change its layout?): "
            + ", ".join(missing)
        )
    copied = unchanged = 0
    for src, dest in ASSETS.items():
        source, target = node_modules / src, vendor_dir / dest
        if not source.is_file():
            continue  # optional and absent
        if target.is_file() and filecmp.cmp(source, target, shallow=False):
            unchanged += 1
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(f".{target.name}.partial")
        shutil.copyfile(source, partial)
        os.replace(partial, target)  # a running server never serves half a file
        copied += 1
    return copied, unchanged


def main() -> int:
    try:
        copied, unchanged = vendor()
    except FileNotFoundError as exc:
        print(f"paddock install: ERROR: front-end assets: {exc}", file=sys.stderr)
        return 1
    rel = VENDOR.relative_to(ROOT)
    print(f"paddock install: front-end assets ok ({copied} copied, {unchanged} current, {rel})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
