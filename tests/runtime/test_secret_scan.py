"""The secret scanner (detect-secrets) over in-memory files. The planted secrets are built by
concatenation so this file itself does not hold one for other scanners to trip on."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest

from paddock.domain.builder.deploy import SecretFinding
from paddock.runtime.secret_scan import scan_for_secrets
from paddock.services.builder.templates import template_files

AWS_KEY = "AKIA" + "Z3MHALF6BQXYCQWE"
TOKEN = "s8Df93kLq0zXv7Bn2mWp" + "4rTy6uIo1aSd"
PRIVATE_KEY = (
    "-----BEGIN RSA " + "PRIVATE KEY-----\n"
    "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi8\n"
    "-----END RSA PRIVATE KEY-----\n"
)


def kinds_at(findings: list[SecretFinding], path: str) -> dict[int, set[str]]:
    found: dict[int, set[str]] = {}
    for finding in findings:
        if finding.path == path:
            found.setdefault(finding.line, set()).add(finding.kind)
    return found


def test_real_looking_secrets_are_found_with_path_and_line() -> None:
    files = {
        "app/config.py": f'import os\n\nREGION = "eu-west-1"\nAWS_ID = "{AWS_KEY}"\n',
        "deploy/key.pem": PRIVATE_KEY,
        "src/api.js": f'const headers = {{}};\nconst token = "{TOKEN}";\n',
    }
    findings = scan_for_secrets(files)
    assert kinds_at(findings, "app/config.py") == {4: {"AWS Access Key"}}
    assert kinds_at(findings, "deploy/key.pem") == {1: {"Private Key"}}
    assert 2 in kinds_at(findings, "src/api.js")
    assert all(TOKEN not in repr(f) and AWS_KEY not in repr(f) for f in findings)


def test_placeholders_in_env_example_and_lockfile_hashes_are_not_secrets() -> None:
    files = {
        ".env.example": (
            "STRIPE_KEY=your-stripe-key-here\n"
            "DATABASE_URL=postgres://user:password@localhost:5432/app\n"
            "SECRET_KEY=changeme\n"
            "API_TOKEN=<token>\n"
        ),
        "package-lock.json": (
            '{\n  "packages": {\n    "node_modules/react": {\n'
            '      "integrity": "sha512-wS+hAgJShR0KhEvPJArfuPVN1+Hz1t0Y6n5jLrGQbkb4urg'
            'PE/0Rve+1kMB1v/oWgHgm4WIcV+i7F2pTVj+2iQ=="\n    }\n  }\n}\n'
        ),
        "pnpm-lock.yaml": (
            "packages:\n  react@19.3.1:\n    resolution: {integrity: sha512-"
            "7mNUAsgUAsIiVp6pC1MHZiUHNXwIe6xzqKETLTXu4kbl0wnzMAuxjVYHHO9vb5yfb0oM1A3Jgc8OfgGuzQ==}\n"
        ),
    }
    assert scan_for_secrets(files) == []


def test_a_real_key_pasted_into_env_example_is_still_found() -> None:
    files = {".env.example": f"AWS_ACCESS_KEY_ID={AWS_KEY}\nSTRIPE_KEY=your-key\n"}
    assert scan_for_secrets(files) == [SecretFinding(".env.example", 1, "AWS Access Key")]


@pytest.mark.parametrize("template", ["static-site", "fastapi-htmx", "vite-react"])
def test_the_shipped_templates_hold_no_secret(template: str) -> None:
    files = {}
    for path, data in template_files(template).items():
        try:
            files[path] = data.decode("utf-8")
        except UnicodeDecodeError:
            continue
    assert scan_for_secrets(files) == []


def test_hostile_names_and_no_copies_left_behind(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    name = "../../" + "x" * 300 + "\nevil'.py"
    files = {name: f'KEY = "{AWS_KEY}"\n', "a/../../escape.py": f'K = "{AWS_KEY}"\n'}
    findings = scan_for_secrets(files)
    assert {(f.path, f.line) for f in findings} == {(name, 1), ("a/../../escape.py", 1)}
    assert list(tmp_path.iterdir()) == []
    assert not (tmp_path.parent / "escape.py").exists()
