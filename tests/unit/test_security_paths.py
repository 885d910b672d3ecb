"""Which changed files count as security-critical."""

from __future__ import annotations

import pytest

from shared.domain.security import security_critical
from shared.platform.settings import SECURITY_PATHS

CASES = [
    ("src/auth/login.py", True),
    ("app/oauth.py", True),
    ("config/secrets.yaml", True),
    ("deploy/server.PEM", True),
    (".github/workflows/ci.yml", True),
    ("docs/Security.md", True),
    ("calculator.py", False),
    ("tests/test_add.py", False),
    ("docs/github.md", False),
]


@pytest.mark.parametrize(("path", "flagged"), CASES, ids=[c[0] for c in CASES])
def test_the_default_globs(path: str, flagged: bool) -> None:
    assert security_critical([path], SECURITY_PATHS) == ([path] if flagged else [])


def test_a_glob_with_a_slash_matches_the_whole_path_only() -> None:
    paths = ["vendor/keys/a.txt", "keys/a.txt", "src/keys.py"]
    assert security_critical(paths, ["keys/*"]) == ["keys/a.txt"]
    assert security_critical(paths, ["keys*"]) == paths


def test_order_is_kept_and_no_globs_flag_nothing() -> None:
    paths = ["b_secret.txt", "a.py", "a_secret.txt"]
    assert security_critical(paths, SECURITY_PATHS) == ["b_secret.txt", "a_secret.txt"]
    assert security_critical(paths, []) == []
