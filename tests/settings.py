"""The real settings with deterministic test-only values for what a developer's environment may not set."""

import os

# Hermetic: a developer's .env (demo mode, market data from a running simulator...) never leaks into tests.
os.environ["FUNDARB_ENV_FILE"] = ""
os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789-abcdefghijklmnop")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "ZnVuZGFyYi10ZXN0LWtleS1ub3QtZm9yLXByb2QhISE=")
# The venues' settlement rules at 1/62.5 speed, for fundarb's policy and the simulator alike (simulator pairs only):
# BingX's 30 s lead is 0.48 s, its 45 s default 0.72 s and its 60 s hold 0.96 s, so a cycle fits whole seconds of 1.
os.environ.setdefault("EXECUTOR_TIME_SCALE", "0.016")

from fundarb_site.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests create many users

# One test database per pytest run (xdist workers of one run share the run id), so two runs at once, say a
# developer's and an editor's, never drop each other's database.
_RUN = os.environ.get("PYTEST_XDIST_TESTRUNUID", str(os.getpid()))[:8]
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # noqa: F405
    DATABASES["default"]["TEST"] = {"NAME": str(VAR_DIR / f"test-fundarb-{_RUN}.sqlite3")}  # noqa: F405
else:
    DATABASES["default"]["TEST"] = {"NAME": f"test_fundarb_{_RUN}"}  # noqa: F405

STATIC_ROOT = None  # tests serve static files through the finders; nothing is collected
