"""Benchmark settings: the production settings (DEBUG off) on a throw-away database, plain HTTP on loopback, in
demo mode (every account is on the simulator, which only demo mode allows; ``SimProcess`` sets its URL).

``BENCH_DATABASE_URL`` (e.g. a PostgreSQL URL) wins; otherwise ``BENCH_SQLITE`` names the temporary SQLite file the
orchestrator created. The developer's ``.env`` and ``DATABASE_URL`` are never read.
"""

import os

os.environ["FUNDARB_ENV_FILE"] = ""
os.environ["DEBUG"] = "false"
os.environ["SECRET_KEY"] = "bench-secret-key-not-for-production-0123456789-abcdefghijklmnopqrstuv"
os.environ["FIELD_ENCRYPTION_KEYS"] = "ZnVuZGFyYi10ZXN0LWtleS1ub3QtZm9yLXByb2QhISE="
os.environ["SECURE_SSL_REDIRECT"] = "false"
os.environ["SESSION_COOKIE_SECURE"] = "false"
os.environ["CSRF_COOKIE_SECURE"] = "false"
os.environ["SECURE_HSTS_SECONDS"] = "0"
os.environ.setdefault("LOG_LEVEL", "WARNING")
os.environ["DEMO_SIMULATOR"] = "true"
# The venues' settlement rules shrunk like the suite's (tests/settings.py), for the policy and the simulator
# subprocess alike, so a cycle takes seconds.
os.environ.setdefault("EXECUTOR_TIME_SCALE", "0.016")
_sqlite = os.environ.get("BENCH_SQLITE", "/tmp/fundarb-bench.sqlite3")
_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{_sqlite}"
os.environ["DATABASE_URL"] = _url

from fundarb_site.settings import *  # noqa: E402, F403

ALLOWED_HOSTS = ["127.0.0.1", "localhost", "testserver"]
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES["staticfiles"] = {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}  # noqa: F405
WHITENOISE_USE_FINDERS = True
STATIC_ROOT = None
