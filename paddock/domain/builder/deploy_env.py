"""Which environment variables an app's code reads, and which its `.env.example` documents: the
facts behind the deploy-readiness check "every variable the code reads is documented".

What counts as a read:

- Python (`.py`, parsed with `ast`, so comments and strings are never mistaken for code):
  `os.environ["X"]`, `os.environ.get("X")`, `os.environ.setdefault("X", ...)`, `os.getenv("X")`,
  and the same through `from os import environ, getenv` or `import os as o`. A file that does
  not parse falls back to a pattern match over its lines without their `#` comments.
- JavaScript / TypeScript (`.js .jsx .mjs .cjs .ts .tsx .mts .cts .vue .svelte .astro`):
  `process.env.X`, `process.env["X"]`, `import.meta.env.X`, `import.meta.env["X"]` and
  destructuring (`const { X, Y } = process.env`). Comments and the insides of string and
  template literals are blanked first (a `"see process.env.X"` in a message is not a read; a
  `${process.env.X}` inside a template literal is).
- Other files (Markdown, HTML, JSON ...) are not code: a README that mentions process.env.X
  documents it, it does not read it.

What is left out, and why:

- Test and tooling code (`tests/`, `e2e/`, `test_*.py`, `*.test.js`, `conftest.py`,
  `e2e_check.py`, `run_tests.py` ...): it runs on the developer's machine or in Paddock, never on
  the host the app is deployed to, so its variables (`PREVIEW_URL`, `JUNIT_OUTPUT`) need not be
  set there.
- Installed or built code (`node_modules/`, `.venv/`, `dist/`, `build/`, `*.min.js`).
- Variables the platform sets: `PORT` (every host sets it: that is how the app learns where to
  listen) and `NODE_ENV` (Node hosts and bundlers set it); and Vite's built-ins on
  `import.meta.env` (`MODE`, `BASE_URL`, `PROD`, `DEV`, `SSR`).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping
from pathlib import PurePosixPath

PLATFORM_VARS = frozenset({"PORT", "NODE_ENV"})
VITE_BUILTINS = frozenset({"MODE", "BASE_URL", "PROD", "DEV", "SSR"})
ENV_EXAMPLE_FILES = (".env.example", ".env.sample", ".env.template")

PYTHON_SUFFIXES = frozenset({".py"})
JS_SUFFIXES = frozenset(
    {".js", ".jsx", ".mjs", ".cjs", ".ts", ".tsx", ".mts", ".cts", ".vue", ".svelte", ".astro"}
)
_SKIPPED_DIRS = frozenset(
    {"node_modules", ".venv", "venv", "dist", "build", "site-packages", "vendor", ".git",
     "tests", "test", "__tests__", "e2e", "cypress", "playwright"}
)  # fmt: skip
_TOOLING_FILES = frozenset({"conftest.py", "e2e_check.py", "run_tests.py", "noxfile.py"})
_TEST_FILE = re.compile(r"(^test_.*\.py$)|(_test\.py$)|(\.(test|spec)\.[cm]?[jt]sx?$)|(\.min\.js$)")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def env_vars_read(files: Mapping[str, str]) -> dict[str, list[str]]:
    """Each environment variable the app's code reads -> the files reading it (sorted), minus
    the ones the platform sets. Test and tooling code is not the app's (see the module doc)."""
    found: dict[str, set[str]] = {}
    for path, text in files.items():
        if not is_app_code(path):
            continue
        for name in _names_in(path, text):
            if _NAME.match(name) and name not in PLATFORM_VARS:
                found.setdefault(name, set()).add(path)
    return {name: sorted(paths) for name, paths in sorted(found.items())}


def documented_env_vars(env_example_text: str) -> set[str]:
    """The names a `.env.example` documents: `NAME=value` lines (`export NAME=` too), and
    commented-out `# NAME=value` lines, the usual way to document an optional variable."""
    names: set[str] = set()
    for raw in env_example_text.splitlines():
        line = raw.strip().removeprefix("#").strip().removeprefix("export ").strip()
        name, equals, _ = line.partition("=")
        if equals and _NAME.match(name.strip()):
            names.add(name.strip())
    return names


def env_example_text(files: Mapping[str, str]) -> str | None:
    """The root env example files' text, joined; None when there is none."""
    texts = [files[name] for name in ENV_EXAMPLE_FILES if name in files]
    return "\n".join(texts) if texts else None


def is_app_code(path: str) -> bool:
    """Whether `path` is code that runs where the app is deployed: a Python or JS/TS source
    outside test, tooling, installed and built folders."""
    pure = PurePosixPath(path)
    if pure.suffix not in PYTHON_SUFFIXES | JS_SUFFIXES:
        return False
    if any(part in _SKIPPED_DIRS for part in pure.parts[:-1]):
        return False
    return pure.name not in _TOOLING_FILES and not _TEST_FILE.search(pure.name)


def _names_in(path: str, text: str) -> Iterator[str]:
    if PurePosixPath(path).suffix in PYTHON_SUFFIXES:
        yield from _python_reads(text)
    else:
        yield from _js_reads(text)


# --- Python ------------------------------------------------------------------------------------

_PY_FALLBACK = re.compile(
    r"""\b(?:os\.environ\s*\[\s*|os\.environ\.(?:get|setdefault)\(\s*|os\.getenv\(\s*)"""
    r"""["']([A-Za-z_][A-Za-z0-9_]*)["']"""
)


def _python_reads(text: str) -> Iterator[str]:
    try:
        tree = ast.parse(text)
    except (SyntaxError, ValueError, RecursionError, MemoryError):
        stripped = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
        yield from (m.group(1) for m in _PY_FALLBACK.finditer(stripped))
        return
    os_names, environ_names, getenv_names = _os_aliases(tree)

    def is_environ(node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in environ_names
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "environ"
            and isinstance(node.value, ast.Name)
            and node.value.id in os_names
        )

    def is_getenv(node: ast.expr) -> bool:
        if isinstance(node, ast.Name):
            return node.id in getenv_names
        if isinstance(node, ast.Attribute) and node.attr in {"get", "setdefault"}:
            return is_environ(node.value)
        return (
            isinstance(node, ast.Attribute)
            and node.attr == "getenv"
            and isinstance(node.value, ast.Name)
            and node.value.id in os_names
        )

    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Subscript)
            and isinstance(node.ctx, ast.Load)
            and is_environ(node.value)
            and _is_str(node.slice)
        ):
            yield _str_value(node.slice)
        elif (
            isinstance(node, ast.Call)
            and node.args
            and is_getenv(node.func)
            and _is_str(node.args[0])
        ):
            yield _str_value(node.args[0])


def _os_aliases(tree: ast.Module) -> tuple[set[str], set[str], set[str]]:
    """The names `os`, `os.environ` and `os.getenv` go by in this module."""
    os_names, environ_names, getenv_names = {"os"}, set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            os_names |= {a.asname or a.name for a in node.names if a.name == "os"}
        elif isinstance(node, ast.ImportFrom) and node.module == "os":
            for alias in node.names:
                if alias.name == "environ":
                    environ_names.add(alias.asname or alias.name)
                elif alias.name == "getenv":
                    getenv_names.add(alias.asname or alias.name)
    return os_names, environ_names, getenv_names


def _is_str(node: ast.expr) -> bool:
    return isinstance(node, ast.Constant) and isinstance(node.value, str)


def _str_value(node: ast.expr) -> str:
    assert isinstance(node, ast.Constant)
    return str(node.value)


# --- JavaScript / TypeScript -------------------------------------------------------------------

_ENV_OBJECT = r"\b(?:process\.env|import\.meta\.env)"
_JS_DOT = re.compile(rf"(?<![\w$.])({_ENV_OBJECT})\s*\.\s*([A-Za-z_$][\w$]*)")
_JS_BRACKET = re.compile(rf"(?<![\w$.])({_ENV_OBJECT})\s*\[\s*([\"'`])")
_JS_DESTRUCTURE = re.compile(rf"\{{([^{{}}]*)\}}\s*=\s*({_ENV_OBJECT})(?![\w$.\[])")
# After one of these (or at the start), a `/` starts a regular expression, not a division.
_REGEX_BEFORE = set("(,=:[!&|?{};+-*%<>~^") | {""}


def _js_reads(text: str) -> Iterator[str]:
    code = mask_js(text)
    for match in _JS_DOT.finditer(code):
        yield from _unless_builtin(match.group(1), match.group(2))
    for match in _JS_BRACKET.finditer(code):
        close = code.find(match.group(2), match.end())
        if close > 0:
            yield from _unless_builtin(match.group(1), text[match.end() : close])
    for match in _JS_DESTRUCTURE.finditer(code):
        for item in match.group(1).split(","):
            name = re.split(r"[:=]", item.strip(), maxsplit=1)[0].strip()
            if not name.startswith("..."):
                yield from _unless_builtin(match.group(2), name)


def _unless_builtin(obj: str, name: str) -> Iterator[str]:
    if not (obj.startswith("import") and name in VITE_BUILTINS):
        yield name


def mask_js(text: str) -> str:
    """`text` with comments, and the insides of string, template and regex literals, replaced
    by spaces (newlines kept), so offsets still match the original. The expressions inside a
    template literal's `${...}` stay code."""
    out = list(text)
    braces: list[int] = []  # open-brace depth of each `${` we are inside, innermost last
    at, n, last = 0, len(text), ""

    def blank(start: int, end: int) -> None:
        for k in range(start, min(end, n)):
            if out[k] != "\n":
                out[k] = " "

    def template_from(start: int) -> int:
        """Blank a template literal's text from `start` (after "`" or a `${...}`'s "}");
        return where code resumes: after the closing "`", or inside the next `${`."""
        end, interpolation = _template_text_end(text, start)
        blank(start, end)
        if interpolation:
            braces.append(0)
            return end + 2
        return end + 1

    while at < n:
        char = text[at]
        comment_end = _comment_end(text, at)
        if comment_end is not None:
            blank(at, comment_end)
            at = comment_end
            continue
        if char in "\"'":
            end = _string_end(text, at + 1, char)
            blank(at + 1, end)
            at, last = end + 1, char
            continue
        if char == "`":
            at, last = template_from(at + 1), "`"
            continue
        if char == "/" and last in _REGEX_BEFORE:
            end = _regex_end(text, at)
            blank(at + 1, end - 1)
            at, last = end, "/"
            continue
        if braces and char == "{":
            braces[-1] += 1
        elif braces and char == "}":
            if braces[-1] == 0:
                braces.pop()
                at, last = template_from(at + 1), "`"
                continue
            braces[-1] -= 1
        if not char.isspace():
            last = char
        at += 1
    return "".join(out)


def _comment_end(text: str, at: int) -> int | None:
    """Where the comment starting at `at` ends (a `//` one before its newline); None when no
    comment starts there."""
    if text.startswith("//", at):
        end = text.find("\n", at)
        return len(text) if end < 0 else end
    if text.startswith("/*", at):
        end = text.find("*/", at + 2)
        return len(text) if end < 0 else end + 2
    return None


def _regex_end(text: str, start: int) -> int:
    """The index after a regular expression literal's closing `/` (its flags are code)."""
    k, in_class = start + 1, False
    while k < len(text) and text[k] != "\n":
        if text[k] == "\\":
            k += 2
            continue
        if text[k] == "[":
            in_class = True
        elif text[k] == "]":
            in_class = False
        elif text[k] == "/" and not in_class:
            return k + 1
        k += 1
    return k


def _string_end(text: str, start: int, quote: str) -> int:
    """The index of the quote closing a string literal opened before `start` (or of the line's
    end: a string cannot span lines unescaped)."""
    k = start
    while k < len(text) and text[k] != quote and text[k] != "\n":
        k += 2 if text[k] == "\\" else 1
    return min(k, len(text))


def _template_text_end(text: str, start: int) -> tuple[int, bool]:
    """Where a template literal's text from `start` ends: at its closing "`" (False) or at the
    "$" of a `${` (True)."""
    k = start
    while k < len(text):
        if text[k] == "`":
            return k, False
        if text.startswith("${", k):
            return k, True
        k += 2 if text[k] == "\\" else 1
    return len(text), False
