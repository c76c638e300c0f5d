"""The real settings with deterministic test-only values for what a developer's environment may not set."""

import os

os.environ.setdefault("DEBUG", "true")
os.environ.setdefault("SECRET_KEY", "test-secret-key-not-for-production-0123456789-abcdefghijklmnop")
os.environ.setdefault("FIELD_ENCRYPTION_KEYS", "ZnVuZGFyYi10ZXN0LWtleS1ub3QtZm9yLXByb2QhISE=")

from fundarb_site.settings import *  # noqa: E402, F403

PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]  # fast; tests create many users
