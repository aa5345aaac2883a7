"""Deploy readiness: each check, the env-var scan, the light and order, stacks and paths."""

from __future__ import annotations

import json

import pytest

from paddock.domain.builder.deploy import (
    CheckStatus,
    DeployCheck,
    Light,
    RunOutcome,
    SecretFinding,
    Stack,
    assess,
    check_build,
    check_dependencies_pinned,
    check_env_documented,
    check_readme,
    check_secrets,
    check_start_command,
    check_tests,
    deploy_paths,
    detect_stack,
    documented_env_vars,
    env_vars_read,
    light_of,
    order_checks,
)
from paddock.services.builder.templates import template_files

PASS, WARN, FAIL = CheckStatus.pass_, CheckStatus.warn, CheckStatus.fail
README = "# Shop\n\nA small shop: lists products, takes orders, emails the owner.\n"


def scaffolded(name: str) -> dict[str, str]:
    """A shipped template's files as the reader would give them (text files only)."""
    files: dict[str, str] = {}
    for path, data in template_files(name).items():
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
        if "\0" not in text:
            files[path] = text
    return files


# --- environment variables -----------------------------------------------------------------


PYTHON_READS = """\
import os
from os import environ as env, getenv
import os as system

# os.environ["IN_A_COMMENT"] is only a comment
HELP = "set os.environ['IN_A_STRING'] first"
DATABASE_URL = os.environ["DATABASE_URL"]
STRIPE_KEY = os.environ.get("STRIPE_KEY", "")
SENTRY = os.getenv("SENTRY_DSN")
MAIL = env["MAIL_FROM"]
REGION = getenv("REGION")
DEBUG = system.environ.setdefault("DEBUG", "0")
os.environ["WRITTEN_NOT_READ"] = "1"
PORT = int(os.environ.get("PORT", "8000"))
"""

JS_READS = """\
// process.env.IN_A_LINE_COMMENT
/* process.env.IN_A_BLOCK_COMMENT */
const help = "see process.env.IN_A_STRING";
const api = process.env.API_URL;
const key = process.env["PAYMENT_KEY"];
const title = `Hello ${process.env.GREETING} from process.env.IN_TEMPLATE_TEXT`;
const { ANALYTICS_ID, MAPS_KEY: maps = "" } = process.env;
const mode = import.meta.env.MODE;
const backend = import.meta.env.VITE_BACKEND_URL;
const pattern = /process.env.IN_A_REGEX/;
const env = process.env.NODE_ENV;
"""


def test_env_vars_read_in_python_and_not_in_comments_strings_or_writes() -> None:
    assert env_vars_read({"app/settings.py": PYTHON_READS}) == {
        name: ["app/settings.py"]
        for name in ("DATABASE_URL", "DEBUG", "MAIL_FROM", "REGION", "SENTRY_DSN", "STRIPE_KEY")
    }


def test_env_vars_read_in_js_and_ts_forms() -> None:
    found = env_vars_read({"src/config.ts": JS_READS, "src/App.jsx": "process.env.API_URL"})
    assert found == {
        "ANALYTICS_ID": ["src/config.ts"],
        "API_URL": ["src/App.jsx", "src/config.ts"],
        "GREETING": ["src/config.ts"],
        "MAPS_KEY": ["src/config.ts"],
        "PAYMENT_KEY": ["src/config.ts"],
        "VITE_BACKEND_URL": ["src/config.ts"],
    }


def test_python_that_does_not_parse_is_still_scanned_without_its_comments() -> None:
    text = "def broken(:\n    key = os.getenv('API_KEY')  # os.getenv('COMMENTED')\n"
    assert env_vars_read({"app/broken.py": text}) == {"API_KEY": ["app/broken.py"]}


def test_docs_tests_and_tooling_are_not_the_apps_code() -> None:
    files = {
        "README.md": "Set process.env.DOCUMENTED and os.environ['ALSO_DOCS'].",
        "tests/test_app.py": "import os\nos.environ['TEST_ONLY']\n",
        "src/content.test.js": "process.env.VITEST_ONLY",
        "e2e/check.mjs": "process.env.PREVIEW_URL",
        "e2e_check.py": "import os\nos.environ.get('PREVIEW_URL')\n",
        "node_modules/react/index.js": "process.env.INSTALLED",
        "dist/assets/index.js": "process.env.BUILT",
    }
    assert env_vars_read(files) == {}


def test_documented_env_vars() -> None:
    text = "# Payments\nSTRIPE_KEY=sk_test_placeholder\nexport MAIL_FROM=\n# SENTRY_DSN=\n\n"
    text += "# Set this in production.\nnot a variable\n"
    assert documented_env_vars(text) == {"STRIPE_KEY", "MAIL_FROM", "SENTRY_DSN"}


def test_env_documented_check() -> None:
    code = {"app/main.py": "import os\nKEY = os.environ['STRIPE_KEY']\nos.getenv('MAIL_FROM')\n"}
    assert check_env_documented({"app/main.py": "print('hi')\n"}).status is PASS

    missing = check_env_documented(code)
    assert missing.status is FAIL
    assert "MAIL_FROM" in missing.message and "STRIPE_KEY" in missing.message
    assert missing.fix is not None
    assert "MAIL_FROM and STRIPE_KEY to your environment variables" in missing.fix
    assert "MAIL_FROM=\nSTRIPE_KEY=" in missing.fix

    partly = check_env_documented({**code, ".env.example": "STRIPE_KEY=\n"})
    assert partly.status is FAIL
    assert "MAIL_FROM" in partly.message and "STRIPE_KEY" not in partly.message

    documented = check_env_documented({**code, ".env.example": "STRIPE_KEY=\nMAIL_FROM=\n"})
    assert (documented.status, documented.fix) == (PASS, None)


# --- README, start command, pinned dependencies ----------------------------------------------


def test_readme_check() -> None:
    assert check_readme({"README.md": README}).status is PASS
    assert check_readme({"readme.md": README}).status is PASS
    empty = check_readme({"README.md": "# My app\n"})
    assert empty.status is WARN and empty.fix
    absent = check_readme({"docs/README.md": README, "index.html": "<p>hi</p>"})
    assert absent.status is WARN and "no README" in absent.message


def test_start_command_from_procfile_package_json_dockerfile_or_template() -> None:
    procfile = {"Procfile": "release: migrate\nweb: gunicorn app:app --bind 0.0.0.0:$PORT\n"}
    check = check_start_command(procfile, None)
    assert (check.status, check.message) == (
        PASS,
        "Procfile: gunicorn app:app --bind 0.0.0.0:$PORT",
    )
    npm = {"package.json": json.dumps({"scripts": {"start": "node server.js"}})}
    assert check_start_command(npm, None).status is PASS
    docker = {"Dockerfile": 'FROM python:3.12\nCMD ["python", "serve.py"]\n'}
    assert check_start_command(docker, None).message.startswith("Dockerfile CMD")
    template = check_start_command({"server.py": "print(1)"}, "python server.py --port $PORT")
    assert template.status is PASS and "template" in template.message


def test_start_command_missing_fails_with_a_fix_naming_the_fastapi_app() -> None:
    files = {
        "requirements.txt": "fastapi==0.115.0\n",
        "api/server.py": "from fastapi import FastAPI\n\napi = FastAPI()\n",
    }
    check = check_start_command(files, None)
    assert check.status is FAIL
    assert check.fix is not None
    assert check.fix.endswith("web: uvicorn api.server:api --host 0.0.0.0 --port $PORT")


def test_start_command_on_loopback_only_is_a_warning() -> None:
    check = check_start_command(
        {"app/main.py": "from fastapi import FastAPI\napp = FastAPI()\n"},
        'uvicorn app.main:app --host 127.0.0.1 --port "$PORT"',
    )
    assert check.status is WARN
    assert check.fix is not None and "--host 0.0.0.0 --port $PORT" in check.fix


def test_static_sites_and_vite_builds_need_no_start_command() -> None:
    assert check_start_command({"index.html": "<h1>hi</h1>"}, None).status is PASS
    vite = {"package.json": json.dumps({"scripts": {"build": "vite build"},
                                         "devDependencies": {"vite": "8.4.1"}})}  # fmt: skip
    assert check_start_command(vite, None).status is PASS
    assert check_start_command({"main.go": "package main"}, None).status is FAIL


def test_dependencies_pinned_check() -> None:
    assert check_dependencies_pinned({"index.html": "<p>"}).message == "Nothing to install."
    pinned = {
        "requirements.txt": "# web\nfastapi==0.115.0  # the server\nuvicorn[standard]==0.30.1\n"
        "jinja2==3.1.4 \\\n    --hash=sha256:abc\npkg @ https://example.com/pkg-1.0.tar.gz\n"
        "-r more.txt\n"
    }
    assert check_dependencies_pinned(pinned).status is PASS

    loose = check_dependencies_pinned(
        {"requirements.txt": "fastapi>=0.100\nuvicorn\nhttpx==0.27\n"}
    )
    assert loose.status is WARN
    assert "fastapi>=0.100" in loose.message and "uvicorn" in loose.message
    assert "httpx" not in loose.message

    node = {"package.json": json.dumps({"dependencies": {"react": "^19.0.0"}})}
    assert check_dependencies_pinned(node).status is WARN
    assert check_dependencies_pinned({**node, "package-lock.json": "{}"}).status is PASS
    assert check_dependencies_pinned({"package.json": "{not json"}).status is FAIL

    project = '[project]\nname = "x"\ndependencies = ["fastapi>=0.1"]\n'
    assert check_dependencies_pinned({"pyproject.toml": project}).status is WARN
    assert check_dependencies_pinned({"pyproject.toml": project, "uv.lock": ""}).status is PASS


# --- secrets, tests, build -----------------------------------------------------------------


def test_secrets_check_names_where_never_what() -> None:
    assert check_secrets([]).status is PASS
    check = check_secrets([SecretFinding("app/config.py", 3, "AWS Access Key")])
    assert check.status is FAIL
    assert "app/config.py line 3 (AWS Access Key)" in check.message
    assert check.fix is not None and "app/config.py line 3" in check.fix


@pytest.mark.parametrize("check", [check_tests, check_build])
def test_run_checks(check: object) -> None:
    assert callable(check)
    assert check(RunOutcome(True, "")).status is PASS
    failed = check(RunOutcome(False, "2 of 14 tests failed\ntraceback ..."))
    assert failed.status is FAIL
    assert "2 of 14 tests failed" in failed.message and "traceback" not in failed.message
    assert failed.fix is not None and "2 of 14 tests failed" in failed.fix
    not_run = check(RunOutcome(None, ""))
    assert not_run.status is WARN and not_run.fix


# --- light, order, assess ------------------------------------------------------------------


def _check(id: str, status: CheckStatus) -> DeployCheck:
    return DeployCheck(id, id, status, "", None if status is PASS else "fix")


def test_light_and_order() -> None:
    checks = [_check("a", PASS), _check("b", WARN), _check("c", FAIL), _check("d", WARN)]
    assert [c.id for c in order_checks(checks)] == ["c", "b", "d", "a"]
    assert light_of(checks) is Light.red
    assert light_of([_check("a", PASS), _check("b", WARN)]) is Light.yellow
    assert light_of([_check("a", PASS)]) is Light.green
    assert CheckStatus.pass_.value == "pass"


def test_assess_a_vite_app_with_a_leak() -> None:
    files = {
        **scaffolded("vite-react"),
        "src/api.js": "export const url = import.meta.env.VITE_API_URL;\n",
    }
    readiness = assess(
        files,
        findings=[SecretFinding("src/keys.js", 1, "Stripe Access Key")],
        tests=RunOutcome(True, "5 tests passed"),
        build=RunOutcome(None),
        template_start=None,
    )
    assert readiness.light is Light.red
    assert [c.id for c in readiness.checks[:2]] == ["env_documented", "secrets"]
    assert readiness.checks[2].id == "build" and readiness.checks[2].status is WARN
    assert all(c.status is PASS for c in readiness.checks[3:])
    assert readiness.stack is Stack.vite_react
    assert readiness.recommended == readiness.paths[0].id == "netlify"


def test_assess_green() -> None:
    readiness = assess(
        scaffolded("static-site"),
        findings=[],
        tests=RunOutcome(True),
        build=RunOutcome(True, "Nothing to build: the files are served as they are."),
    )
    assert readiness.light is Light.green
    assert readiness.recommended == "github-pages"


# --- the shipped templates -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("template", "stack"),
    [
        ("static-site", Stack.static_site),
        ("fastapi-htmx", Stack.python_fastapi),
        ("vite-react", Stack.vite_react),
    ],
)
def test_shipped_templates_stack_and_checks(template: str, stack: Stack) -> None:
    files = scaffolded(template)
    assert detect_stack(files) is stack
    assert check_readme(files).status is PASS
    assert check_dependencies_pinned(files).status is PASS
    assert check_env_documented(files).status is PASS  # their env reads are test tooling only


def test_every_shipped_template_has_a_start_command() -> None:
    assert check_start_command(scaffolded("static-site"), None).status is PASS
    assert check_start_command(scaffolded("vite-react"), None).status is PASS
    fastapi = scaffolded("fastapi-htmx")
    assert "Procfile" in fastapi and check_start_command(fastapi, None).status is PASS


def test_a_dev_server_bound_to_localhost_is_no_start_command() -> None:
    fastapi = {k: v for k, v in scaffolded("fastapi-htmx").items() if k != "Procfile"}
    assert check_start_command(fastapi, None).status is FAIL
    dev = '.venv/bin/python -m uvicorn app.main:app --host 127.0.0.1 --port "$PORT"'
    warned = check_start_command(fastapi, dev)
    assert warned.status is WARN
    assert warned.fix is not None
    assert warned.fix.endswith("web: uvicorn app.main:app --host 0.0.0.0 --port $PORT")
    production = "uvicorn app.main:app --host 0.0.0.0 --port $PORT"
    assert check_start_command(fastapi, production).status is PASS


def test_unknown_stack() -> None:
    assert detect_stack({"main.go": "package main", "go.mod": "module x"}) is Stack.unknown
    express = {"package.json": json.dumps({"dependencies": {"express": "4.0.0"}})}
    assert detect_stack(express) is Stack.unknown


# --- deploy paths --------------------------------------------------------------------------


@pytest.mark.parametrize("stack", list(Stack))
def test_every_stack_has_two_or_three_complete_paths(stack: Stack) -> None:
    paths = deploy_paths(stack)
    assert 2 <= len(paths) <= 3
    assert len({p.id for p in paths}) == len(paths)
    for path in paths:
        assert path.name and path.summary and path.cost and path.limits
        assert path.difficulty in {"easy", "medium", "hard"}
        assert path.tradeoffs and len(path.steps) >= 3


def test_paths_carry_the_stacks_commands() -> None:
    fastapi_steps = " ".join(s for p in deploy_paths(Stack.python_fastapi) for s in p.steps)
    assert "--host 0.0.0.0 --port $PORT" in fastapi_steps
    assert "pip install -r requirements.txt" in fastapi_steps
    for path in deploy_paths(Stack.vite_react):
        steps = " ".join(path.steps)
        assert "npm run build" in steps and "'dist'" in steps
    assert [p.id for p in deploy_paths(Stack.static_site)] == [
        "github-pages",
        "netlify",
        "cloudflare-pages",
    ]
