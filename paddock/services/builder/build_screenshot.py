"""A build's screenshot: the command that takes it in the attempt's sandbox (a browser started
ahead, runtime/browser_shot.py, sent the page on stdin) and what a build keeps of one started
ahead of its checks."""

from __future__ import annotations

import asyncio
import functools
from dataclasses import dataclass
from pathlib import Path

from paddock.domain.preview import Preview
from paddock.runtime import browser_shot

SCREENSHOT = "home.png"  # the picture, in the process's artifact folder
BROWSER_SHOT_ENV = "PADDOCK_BROWSER_SHOT"  # runtime/browser_shot.py's source


@dataclass
class EarlyScreenshot:
    """The screenshot started ahead of the checks: the preview it waits for, and its task."""

    preview: asyncio.Future[Preview]
    task: asyncio.Future[str | None]


def screenshot_argv() -> list[str]:
    """Headless Chromium writing a page to the process's artifact folder, the page's URL read
    from stdin (a line). Started before the page exists where Python is at hand (the helper
    runtime/browser_shot.py, its source in $PADDOCK_BROWSER_SHOT, `screenshot_env`: the
    browser starts, then waits for the URL); otherwise Chromium once the URL came, giving the
    page up to 5 s of its own time first. Its own sandbox is off: it runs inside Paddock's,
    where it could not make one."""
    script = (
        'out="${PADDOCK_ARTIFACTS:?}/' + SCREENSHOT + '"; '
        f'command -v python3 >/dev/null && exec python3 -c "${BROWSER_SHOT_ENV}" "$out"; '
        'IFS= read -r url || { echo "no page to picture" >&2; exit 0; }; '
        'profile="$(mktemp -d)"; '
        "for b in chromium chromium-browser google-chrome; do "
        'command -v "$b" >/dev/null && exec "$b" --headless=new --no-sandbox --disable-gpu '
        "--no-first-run --disable-background-networking --disable-component-update "
        "--disable-sync --hide-scrollbars --window-size=1280,800 "
        "--virtual-time-budget=5000 --run-all-compositor-stages-before-draw "
        '--user-data-dir="$profile" --screenshot="$out" "$url"; done; '
        'echo "no Chromium here: no screenshot" >&2; exit 3'
    )
    return ["bash", "-c", script, "screenshot"]


@functools.cache
def screenshot_env() -> dict[str, str]:
    """The helper's source, for `screenshot_argv` (in the environment, not the command line
    every log starts with)."""
    return {BROWSER_SHOT_ENV: Path(browser_shot.__file__).read_text()}
