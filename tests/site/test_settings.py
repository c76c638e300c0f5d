"""Settings come from the environment; production refuses to start half-configured."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings
from django.db import connection

VALID_FERNET = "ZnVuZGFyYi10ZXN0LWtleS1ub3QtZm9yLXByb2QhISE="
STRONG_SECRET = "k3^v9!qzR#t2$Lm8@pW5&nB7*cX4(dF6)hJ1-gS0+aY_eU" * 2


def manage(*args: str, **env: str) -> subprocess.CompletedProcess:
    """Run manage.py in a clean environment: only what the test passes, never the developer's .env."""
    base = {k: v for k, v in os.environ.items() if k in {"PATH", "HOME", "LANG", "SYSTEMROOT"}}
    environment = {**base, "FUNDARB_ENV_FILE": "", "DJANGO_SETTINGS_MODULE": "fundarb_site.settings", **env}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=settings.BASE_DIR,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


@pytest.mark.parametrize(
    ("missing", "present"),
    [("SECRET_KEY", {"FIELD_ENCRYPTION_KEYS": VALID_FERNET}), ("FIELD_ENCRYPTION_KEYS", {"SECRET_KEY": STRONG_SECRET})],
)
def test_production_refuses_to_start_without_required_variable(missing, present):
    """DEBUG off and a required variable missing: exit 1 with one line naming the variable, no traceback."""
    result = manage("check", DEBUG="false", **present)
    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert missing in lines[0]
    assert "Traceback" not in result.stderr


def test_invalid_encryption_key_is_refused_with_one_line():
    """A malformed Fernet key is named by position, not dumped as a traceback."""
    result = manage("check", DEBUG="false", SECRET_KEY=STRONG_SECRET, FIELD_ENCRYPTION_KEYS=f"{VALID_FERNET},nope")
    assert result.returncode == 1
    assert result.stderr.strip() == (
        "fundarb: FIELD_ENCRYPTION_KEYS entry 2 is not a valid Fernet key "
        "(32 url-safe base64-encoded bytes; generate one with `make key`)"
    )


def test_production_settings_pass_check_deploy_without_warnings():
    """`manage.py check --deploy` is clean in production configuration."""
    result = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        DEBUG="false",
        SECRET_KEY=STRONG_SECRET,
        FIELD_ENCRYPTION_KEYS=VALID_FERNET,
        ALLOWED_HOSTS="fundarb.example.com",
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def queue_settings(**env: str) -> dict:
    code = "from django.conf import settings; import json; print(json.dumps(settings.Q_CLUSTER))"
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        code,
        DEBUG="true",
        SECRET_KEY=STRONG_SECRET,
        FIELD_ENCRYPTION_KEYS=VALID_FERNET,
        **env,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_queue_uses_orm_broker_by_default_and_redis_when_configured():
    """The ORM broker on the default database unless Q_REDIS_URL is set."""
    assert queue_settings()["orm"] == "default"
    with_redis = queue_settings(Q_REDIS_URL="redis://127.0.0.1:6379/3")
    assert with_redis["redis"] == "redis://127.0.0.1:6379/3"
    assert "orm" not in with_redis


def test_queue_never_redelivers_a_running_task_nor_catches_up():
    """retry exceeds timeout (no second delivery while a task runs), no catch-up, failures not re-queued."""
    q = settings.Q_CLUSTER
    assert q["retry"] > q["timeout"] > 0
    assert q["catch_up"] is False
    assert q["max_attempts"] == 1
    assert q["time_zone"] == "UTC"
    assert q["workers"] >= 2


@pytest.mark.django_db
def test_sqlite_is_configured_for_concurrent_writers():
    """WAL, a busy timeout and immediate transactions on SQLite."""
    if connection.vendor != "sqlite":
        pytest.skip("SQLite-specific (this pass runs on another database)")
    with connection.cursor() as cursor:
        assert cursor.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert cursor.execute("PRAGMA busy_timeout").fetchone()[0] >= 5000
    assert connection.settings_dict["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_logs_go_to_stderr_and_can_be_json_lines():
    """LOG_FORMAT=json writes one JSON object per line on stderr; stdout keeps only the command's output."""
    code = "import logging; logging.getLogger('fundarb.test').warning('hello %s', 'world'); print('result')"
    result = manage(
        "shell",
        "-v",
        "0",
        "-c",
        code,
        DEBUG="true",
        SECRET_KEY=STRONG_SECRET,
        FIELD_ENCRYPTION_KEYS=VALID_FERNET,
        LOG_FORMAT="json",
    )
    assert result.stdout.strip() == "result"
    record = json.loads(result.stderr.strip().splitlines()[-1])
    assert record["message"] == "hello world"
    assert record["level"] == "WARNING"
    assert record["logger"] == "fundarb.test"
