"""The editor an attempt's worktree opens in (the `editor` setting, docs/configuration.md).

The setting is one of: a known editor's name (`vscode`, `cursor`: a link its desktop app opens,
`vscode://file/<path>`), a link template with `{path}` (`vscode://vscode-remote/ssh-remote+box{path}`
for a server on another machine), `none`, or a command the server runs on its own machine
(`zed {path}`, `idea`: `{path}` replaced, else the path added at the end)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from urllib.parse import quote

from paddock.domain.errors import InvalidInput

# Editors whose desktop app registers a link scheme that opens a local path.
LINK_EDITORS = {"vscode": "vscode://file{path}", "cursor": "cursor://file{path}"}
NONE = ("", "none")
SCHEME = re.compile(r"^[a-z][a-z0-9+.-]*://", re.IGNORECASE)
PATH = "{path}"


@dataclass(frozen=True, slots=True)
class Editor:
    """How a path opens: a link the browser follows, or a command line the server runs."""

    link: str | None = None  # a template with {path}
    command: tuple[str, ...] = ()  # argv, its {path} replaced

    @classmethod
    def of(cls, setting: str) -> Editor | None:
        """The editor the setting names; None for `none`."""
        value = setting.strip()
        if value.lower() in NONE:
            return None
        if value.lower() in LINK_EDITORS:
            return cls(link=LINK_EDITORS[value.lower()])
        if SCHEME.match(value):
            return cls(link=value if PATH in value else value + PATH)
        try:
            argv = tuple(shlex.split(value))
        except ValueError as error:
            raise InvalidInput(f"editor: {error}", code="bad_editor") from error
        return cls(command=argv if any(PATH in a for a in argv) else (*argv, PATH))

    def link_to(self, path: str) -> str | None:
        """The link that opens `path`, for a link editor."""
        if self.link is None:
            return None
        return self.link.replace(PATH, quote(path, safe="/:@+"))

    def argv(self, path: str) -> list[str]:
        """The command line that opens `path`, for a command editor."""
        return [a.replace(PATH, path) for a in self.command]
