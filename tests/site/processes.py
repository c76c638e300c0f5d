"""Real processes for tests: a migrated throw-away database and manage.py subprocesses that use it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

REPO = Path(settings.BASE_DIR)
TEST_SECRET = "process-test-secret-key-0123456789-abcdefghijklmnopqrstuvwxyz"
TEST_FERNET = "ZnVuZGFyYi10ZXN0LWtleS1ub3QtZm9yLXByb2QhISE="


def process_env(database_url: str, **extra: str) -> dict[str, str]:
    keep = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "CI"}}
    return {
        **keep,
        "FUNDARB_ENV_FILE": "",
        "DJANGO_SETTINGS_MODULE": "fundarb_site.settings",
        "DEBUG": "true",
        "SECRET_KEY": TEST_SECRET,
        "FIELD_ENCRYPTION_KEYS": TEST_FERNET,
        "DATABASE_URL": database_url,
        "PYTHONUNBUFFERED": "1",
        **extra,
    }


def manage_run(env: dict[str, str], *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, str(REPO / "manage.py"), *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    )


def manage_popen(env: dict[str, str], *args: str, log: Path) -> subprocess.Popen:
    handle = log.open("w")
    return subprocess.Popen(
        [sys.executable, str(REPO / "manage.py"), *args],
        cwd=REPO,
        env=env,
        stdout=handle,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


def migrated_sqlite(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    manage_run(process_env(url), "migrate", "--noinput", "-v", "0")
    return url
