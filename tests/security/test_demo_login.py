"""The published demo login (demo / fundarb-demo) exists only in demo mode: outside it, a `demo` user that still has
that password is disabled when the web server, the workers or run_stack start, with one warning in the log."""

from __future__ import annotations

import io
import logging

import pytest
from django.core.management import call_command

from arbitrage.services.demo import DEMO_PASSWORD, DEMO_USERNAME, demo_login_guard

pytestmark = pytest.mark.django_db


@pytest.fixture
def published_demo(django_user_model, settings):
    settings.DEMO_SIMULATOR = False
    return django_user_model.objects.create_user(DEMO_USERNAME, password=DEMO_PASSWORD)


def warnings_from(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


def test_outside_demo_mode_the_published_login_is_disabled_with_one_warning(published_demo, caplog):
    """Disabled once, with one single-line warning; a second start finds nothing to do and says nothing."""
    caplog.set_level(logging.WARNING, logger="arbitrage.services.demo")
    assert demo_login_guard() is True
    assert demo_login_guard() is False
    published_demo.refresh_from_db()
    assert published_demo.is_active is False
    (line,) = warnings_from(caplog)
    assert "disabled user 'demo'" in line and "\n" not in line
    assert DEMO_PASSWORD not in line


def test_a_demo_user_with_its_own_password_is_left_alone(published_demo):
    """Only the published password is the risk: an operator who changed it keeps the user."""
    published_demo.set_password("a private passphrase 42")
    published_demo.save()
    assert demo_login_guard() is False
    published_demo.refresh_from_db()
    assert published_demo.is_active is True


def test_in_demo_mode_the_demo_login_stays(published_demo, settings):
    """The demo is what demo mode is for."""
    settings.DEMO_SIMULATOR = True
    assert demo_login_guard() is False
    published_demo.refresh_from_db()
    assert published_demo.is_active is True


def test_every_worker_process_runs_the_guard_as_it_starts(published_demo):
    """django-q2's post_spawn (each worker of a bare `manage.py qcluster`) disables the login."""
    from django_q.signals import post_spawn

    post_spawn.send(sender="django_q", proc_name="Process-1:1")
    published_demo.refresh_from_db()
    assert published_demo.is_active is False


def test_a_failing_guard_never_stops_a_worker_from_starting(published_demo, monkeypatch, caplog):
    """The workers may have positions to close: an error in the guard is logged, not raised."""
    from django.db import DatabaseError
    from django_q.signals import post_spawn

    def broken():
        raise DatabaseError("no such table: auth_user")

    monkeypatch.setattr("arbitrage.services.demo.demo_login_guard", broken)
    post_spawn.send(sender="django_q", proc_name="Process-1:1")
    assert any("starting anyway" in line for line in warnings_from(caplog))


def test_run_stack_disables_the_published_login_before_starting_anything(published_demo, monkeypatch):
    """Outside demo mode run_stack runs the guard before its children start (and seeds nothing)."""
    from arbitrage.management.commands import run_stack

    started = []

    def fake_start(self, command):
        published_demo.refresh_from_db()
        started.append(published_demo.is_active)
        raise SystemExit(3)  # stop here: only the order matters

    monkeypatch.setattr(run_stack.Command, "_start", fake_start)
    with pytest.raises(SystemExit):
        call_command("run_stack", "--port", "1", stdout=io.StringIO(), stderr=io.StringIO())
    assert started == [False]
