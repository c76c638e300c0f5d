"""Shared by the security tests: row counts (nothing changed), hypothesis settings, logged-in clients."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from hypothesis import HealthCheck, settings

# Hypothesis' default of 100 examples (never fewer). Each example reuses the test's fixtures: every property below
# asserts that nothing changed, so sharing the rows between examples is exactly what is being checked.
PROPERTY = settings(
    max_examples=100,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def row_counts() -> dict[str, int]:
    """Rows of every table of the app and of users: equal before and after means a request changed nothing."""
    models = [*apps.get_app_config("arbitrage").get_models(), get_user_model()]
    return {model._meta.label: model._default_manager.count() for model in models}


@pytest.fixture
def alice_client(client, user):
    client.force_login(user)
    return client


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "root-password-1")


@pytest.fixture
def root_client(client, root):
    client.force_login(root)
    return client


@pytest.fixture
def secret_page():
    """A loopback HTTP service on an ephemeral port whose every page is a secret (see secret_server.py)."""
    from tests.security.secret_server import secret_server

    with secret_server() as server:
        yield server
