"""The web server checks the demo login when it starts: a real process importing the WSGI application."""

from __future__ import annotations

import subprocess
import sys

from tests.site.processes import REPO, manage_run, migrated_sqlite, process_env

PUBLISHED_DEMO = (
    "from django.contrib.auth import get_user_model;"
    "get_user_model().objects.create_user('demo', password='fundarb-demo')"
)
IS_ACTIVE = (
    "from django.contrib.auth import get_user_model;print(get_user_model().objects.get(username='demo').is_active)"
)


def start_web_server(env: dict[str, str]) -> subprocess.CompletedProcess:
    """What gunicorn does first: import fundarb_site.wsgi (the application is built, the guard runs)."""
    code = "import fundarb_site.wsgi; print('serving')"
    return subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True, text=True, timeout=60, check=False
    )


def test_the_web_server_disables_the_published_demo_login_outside_demo_mode(tmp_path):
    """Demo mode off: the user is disabled, one warning line on stderr, and the server starts."""
    env = process_env(migrated_sqlite(tmp_path))
    manage_run(env, "shell", "-c", PUBLISHED_DEMO)
    started = start_web_server(env)
    assert started.returncode == 0 and started.stdout.strip() == "serving", started.stderr
    warnings = [line for line in started.stderr.splitlines() if "WARNING" in line]
    assert len(warnings) == 1 and "disabled user 'demo'" in warnings[0], started.stderr
    assert manage_run(env, "shell", "-v", "0", "-c", IS_ACTIVE).stdout.strip() == "False"


def test_the_web_server_starts_on_a_database_not_migrated_yet(tmp_path):
    """The guard's failure is logged; the web server still starts."""
    started = start_web_server(process_env(f"sqlite:///{tmp_path / 'empty.sqlite3'}"))
    assert started.returncode == 0 and started.stdout.strip() == "serving", started.stderr
    assert "starting anyway" in started.stderr
