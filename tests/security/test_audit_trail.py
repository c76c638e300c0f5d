"""The audit trail: who did what, when, from which address, to whose object; append-only; shown in the admin and to
each owner on their Activity page (including what staff did); never a secret."""

from __future__ import annotations

import io
import sys

import pytest
from django.contrib.auth.models import Permission
from django.core.management import call_command
from django.urls import reverse

from arbitrage.models import AuditAction, AuditEvent, Installation, KillSwitch, Notice, SubscriptionStatus
from arbitrage.services.audit import Actor, audit_record
from tests.web.conftest import subscribe

pytestmark = pytest.mark.django_db

A = AuditAction
TYPED_KEY, TYPED_SECRET = "AUDIT-TYPED-KEY-7c1d9e", "AUDIT-TYPED-SECRET-3f8a2b"
NEW_KEY, NEW_SECRET = "AUDIT-NEW-KEY-aa11bb", "AUDIT-NEW-SECRET-cc22dd"
WRONG_PASSWORD = "AUDIT-WRONG-PASSWORD-9e9e"


def rows(**filters) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(**filters).order_by("at", "pk"))


def last(action: str) -> AuditEvent:
    return AuditEvent.objects.filter(action=action).latest("at", "pk")


def admin_action(client, model: str, action: str, pks) -> None:
    client.post(reverse(f"admin:arbitrage_{model}_changelist"), {"action": action, "_selected_action": pks})


@pytest.fixture
def root(django_user_model):
    return django_user_model.objects.create_superuser("root", "root@example.com", "root-password-1")


def test_a_row_is_never_changed_and_the_queryset_cannot_update(user):
    """save() of an existing row and QuerySet.update() are refused."""
    event = audit_record(actor=Actor.SYSTEM, action=A.KEYS_ROTATED, detail="x")
    event.detail = "rewritten"
    with pytest.raises(ValueError, match="append-only"):
        event.save()
    with pytest.raises(ValueError, match="append-only"):
        AuditEvent.objects.filter(pk=event.pk).update(detail="rewritten")
    assert AuditEvent.objects.get(pk=event.pk).detail == "x"


def test_the_admin_shows_it_read_only_and_only_a_superuser_deletes(client, django_user_model, root, user):
    """No add or change for anybody; staff even with the delete permission cannot delete; a superuser can (and
    that deletion is itself recorded)."""
    event = audit_record(actor=Actor.SYSTEM, action=A.KEYS_ROTATED, detail="x")
    changelist = reverse("admin:arbitrage_auditevent_changelist")
    staff = django_user_model.objects.create_user("sam", password="sam-password-1", is_staff=True)
    staff.user_permissions.set(Permission.objects.filter(codename__in=["view_auditevent", "delete_auditevent"]))
    client.force_login(staff)
    assert client.get(changelist).status_code == 200
    assert client.get(reverse("admin:arbitrage_auditevent_add")).status_code == 403
    assert client.post(reverse("admin:arbitrage_auditevent_change", args=[event.pk]), {}).status_code == 403
    assert (
        client.post(reverse("admin:arbitrage_auditevent_delete", args=[event.pk]), {"post": "yes"}).status_code == 403
    )
    assert AuditEvent.objects.filter(pk=event.pk).exists()
    client.force_login(root)
    client.post(reverse("admin:arbitrage_auditevent_delete", args=[event.pk]), {"post": "yes"})
    assert not AuditEvent.objects.filter(pk=event.pk).exists()
    trace = last(A.ADMIN_DELETED)
    assert (trace.actor_username, trace.via, trace.object_type) == ("root", "admin", "audit event")


def test_an_owner_adding_changing_and_deleting_an_account_is_recorded(alice_client, user, settings):
    """Who (alice, on the web, from her address), what, whose; the key change is its own action."""
    settings.DEMO_SIMULATOR = True
    form = {"exchange": "bybit", "label": "main", "environment": "testnet", "base_url": "",
            "api_key": TYPED_KEY, "api_secret": TYPED_SECRET}  # fmt: skip
    alice_client.post(reverse("account_create"), form, REMOTE_ADDR="203.0.113.9")
    added = last(A.ACCOUNT_ADDED)
    assert (added.actor, added.actor_username, added.via, added.address) == (user, "alice", "web", "203.0.113.9")
    assert (added.owner, added.object_type, added.object_text) == (user, "exchange account", "main (Bybit)")
    assert added.detail == "Bybit, Testnet"
    account_id = int(added.object_id)
    edit = {"label": "renamed", "environment": "testnet", "base_url": "", "api_key": NEW_KEY, "api_secret": ""}
    alice_client.post(reverse("account_edit", args=[account_id]), edit)
    assert last(A.KEY_CHANGED).detail == "API key replaced; label 'main' -> 'renamed'"
    alice_client.post(reverse("account_edit", args=[account_id]), {**edit, "api_key": "", "environment": "mainnet"})
    assert last(A.ACCOUNT_CHANGED).detail == "Bybit, Testnet -> Bybit, Mainnet"
    alice_client.post(reverse("account_delete", args=[account_id]))
    assert last(A.ACCOUNT_DELETED).object_text == "renamed (Bybit)"


def test_switches_and_the_halt_are_recorded_from_the_pages_and_the_admin(client, user, root):
    """Kill switch (page and admin, on alice's row) and the halt (dashboard and admin Installation)."""
    client.force_login(user)
    client.post(reverse("kill_switch"), {"engaged": "1"})
    assert (last(A.KILL_SWITCH_ENGAGED).actor_username, last(A.KILL_SWITCH_ENGAGED).owner) == ("alice", user)
    client.force_login(root)
    admin_action(client, "killswitch", "release", [KillSwitch.objects.get(user=user).pk])
    released = last(A.KILL_SWITCH_RELEASED)
    assert (released.actor_username, released.via, released.owner) == ("root", "admin", user)
    client.post(reverse("trading_halt"), {"engaged": "1"})
    halted = last(A.HALT_ENGAGED)
    assert (halted.actor_username, halted.via, halted.owner) == ("root", "web", None)
    installation = Installation.current()
    client.post(reverse("admin:arbitrage_installation_change", args=[installation.pk]), {})
    assert (last(A.HALT_RELEASED).actor_username, last(A.HALT_RELEASED).via) == ("root", "admin")


def test_staff_actions_on_another_users_objects_are_recorded_for_the_owner(client, root, user, sim_accounts):
    """Pause, resume, sync leverage, check accounts, test connection and dismiss by root on alice's objects."""
    subscription = subscribe(user, *sim_accounts)
    notice = Notice.objects.create(user=user, message="note")
    client.force_login(root)
    for model, action, pk in (
        ("subscription", "pause", subscription.pk),
        ("subscription", "resume", subscription.pk),
        ("subscription", "sync_leverage", subscription.pk),
        ("subscription", "check_accounts", subscription.pk),
        ("exchangeaccount", "test_connection", sim_accounts[0].pk),
        ("notice", "dismiss", notice.pk),
    ):
        admin_action(client, model, action, [pk])
    by_root = rows(actor_username="root")
    assert [e.action for e in by_root] == [
        A.SUBSCRIPTION_PAUSED, A.SUBSCRIPTION_RESUMED, A.LEVERAGE_SYNCED, A.ACCOUNT_CHECKED, A.ACCOUNT_CHECKED,
        A.ACCOUNT_CHECKED, A.NOTICE_DISMISSED,
    ]  # fmt: skip
    assert {(e.via, e.owner_id, e.address) for e in by_root} == {("admin", user.pk, "127.0.0.1")}
    assert last(A.LEVERAGE_SYNCED).detail == "3x confirmed on both venues"
    subscription.refresh_from_db()
    assert subscription.status == SubscriptionStatus.ACTIVE


def test_deleting_in_the_admin_is_recorded(client, root, user, sim_accounts):
    """An account deleted from the admin is the account service's row; other models get 'deleted in the admin'."""
    notice = Notice.objects.create(user=user, message="old")
    client.force_login(root)
    client.post(reverse("admin:arbitrage_exchangeaccount_delete", args=[sim_accounts[0].pk]), {"post": "yes"})
    client.post(reverse("admin:arbitrage_notice_delete", args=[notice.pk]), {"post": "yes"})
    deleted = last(A.ACCOUNT_DELETED)
    assert (deleted.actor_username, deleted.via, deleted.owner) == ("root", "admin", user)
    gone = last(A.ADMIN_DELETED)
    assert (gone.object_type, gone.object_text, gone.owner) == ("notice", "old", user)


def test_commands_record_as_the_command(monkeypatch, venue_sim, sim_accounts, user):
    """Command rows say which command; rotation is one row with a count and nothing else."""
    subscription = subscribe(user, *sim_accounts)
    call_command("sync_leverage", str(subscription.pk), stdout=io.StringIO())
    call_command("check_account", str(sim_accounts[1].pk), stdout=io.StringIO())
    monkeypatch.setattr(sys, "stdin", io.StringIO("cli-secret-value\n"))
    call_command("add_account", "--user", "alice", "--exchange", "bybit", "--label", "cli", "--api-key", "cli-key",
                 stdout=io.StringIO())  # fmt: skip
    call_command("rotate_encryption_keys", stdout=io.StringIO())
    assert [(e.action, e.actor_username, e.via) for e in rows(via="command")] == [
        (A.LEVERAGE_SYNCED, "manage.py sync_leverage", "command"),
        (A.ACCOUNT_CHECKED, "manage.py check_account", "command"),
        (A.ACCOUNT_ADDED, "manage.py add_account", "command"),
        (A.KEYS_ROTATED, "manage.py rotate_encryption_keys", "command"),
    ]
    rotated = last(A.KEYS_ROTATED)
    assert rotated.detail == "re-encrypted 0 value(s)" and rotated.owner is None


def test_failed_logins_and_lockouts_are_recorded_on_the_attempted_username(client, user):
    """The attempted username (alice's row when alice exists), the address, never the password."""
    for _ in range(5):
        client.post(reverse("login"), {"username": "alice", "password": WRONG_PASSWORD}, REMOTE_ADDR="198.51.100.4")
    client.post(reverse("admin:login"), {"username": "nobody", "password": WRONG_PASSWORD}, REMOTE_ADDR="198.51.100.5")
    failed = rows(action=A.LOGIN_FAILED, owner=user)
    assert len(failed) == 5 and {(e.via, e.address, e.owner_username) for e in failed} == {
        ("web", "198.51.100.4", "alice")
    }
    (locked,) = rows(action=A.LOCKED_OUT)
    assert (locked.owner, locked.address) == (user, "198.51.100.4") and "15 minutes" in locked.detail
    stranger = last(A.LOGIN_FAILED)
    assert (stranger.owner, stranger.owner_username, stranger.via) == (None, "nobody", "admin")


def test_the_owner_sees_their_activity_including_what_staff_did_and_nobody_elses(
    client, root, user, other_user, sim_accounts
):
    """alice's Activity page: her own actions as 'you', root's by name, failed logins on her username; none of
    bob's rows."""
    subscription = subscribe(user, *sim_accounts)
    client.force_login(root)
    admin_action(client, "subscription", "pause", [subscription.pk])
    client.logout()
    client.post(reverse("login"), {"username": "alice", "password": WRONG_PASSWORD}, REMOTE_ADDR="198.51.100.7")
    audit_record(actor=Actor.SYSTEM, action=A.KILL_SWITCH_ENGAGED, obj=other_user, detail="bob's secret row")
    client.force_login(user)
    client.post(reverse("kill_switch"), {"engaged": "1"})
    html = client.get(reverse("activity_list")).content.decode()
    assert 'href="/activity/"' in html  # in the navigation
    assert "Subscription paused" in html and "root" in html and "(admin)" in html
    assert "Failed login" in html and "198.51.100.7" in html and "someone not logged in" in html
    assert "Kill switch engaged" in html and ">you<" in html.replace(" <span", "<span").replace("</td>", "<")
    assert "bob&#x27;s secret row" not in html and "bob's secret row" not in html


def test_the_activity_page_is_paginated_newest_first(alice_client, user):
    """25 to a page, newest first; an out-of-range page shows the last one."""
    for n in range(30):
        audit_record(actor=Actor.SYSTEM, action=A.NOTICE_DISMISSED, owner=user, detail=f"event number {n:02d}")
    first = alice_client.get(reverse("activity_list")).content.decode()
    assert "event number 29" in first and "event number 04" not in first and "Page 1 of 2" in first
    assert first.index("event number 29") < first.index("event number 28")
    second = alice_client.get(reverse("activity_list") + "?page=99").content.decode()
    assert "event number 00" in second and "event number 29" not in second


def test_a_deleted_user_keeps_their_trail_by_name(django_user_model, user):
    """Users can be deleted (SET_NULL); the rows keep the usernames."""
    audit_record(actor=Actor(user_id=user.pk, username="alice", via="web"), action=A.KEYS_ROTATED, owner=user)
    user.delete()
    (event,) = rows()
    assert (event.actor, event.owner, event.actor_username, event.owner_username) == (None, None, "alice", "alice")


def test_no_secret_ever_lands_in_the_trail_or_on_its_pages(client, root, user, settings):
    """Keys, secrets and passwords typed anywhere are in no audit field, on no Activity or admin page."""
    settings.DEMO_SIMULATOR = True
    client.force_login(user)
    form = {"exchange": "bingx", "label": "x", "environment": "demo", "base_url": "", "api_key": TYPED_KEY,
            "api_secret": TYPED_SECRET}  # fmt: skip
    client.post(reverse("account_create"), form)
    account_id = int(last(A.ACCOUNT_ADDED).object_id)
    client.post(
        reverse("account_edit", args=[account_id]),
        {"label": "x", "environment": "demo", "base_url": "", "api_key": NEW_KEY, "api_secret": NEW_SECRET},
    )
    client.post(
        reverse("account_edit", args=[account_id]),
        {"label": "", "environment": "demo", "base_url": "", "api_key": NEW_KEY, "api_secret": NEW_SECRET},
    )
    activity = client.get(reverse("activity_list")).content.decode()
    client.logout()
    client.post(reverse("login"), {"username": "alice", "password": WRONG_PASSWORD})
    client.force_login(root)
    admin_pages = [client.get(reverse("admin:arbitrage_auditevent_changelist")).content.decode()] + [
        client.get(reverse("admin:arbitrage_auditevent_change", args=[pk])).content.decode()
        for pk in AuditEvent.objects.values_list("pk", flat=True)
    ]  # fmt: skip
    stored = [
        " ".join(str(v) for v in values)
        for values in AuditEvent.objects.values_list(*[f.attname for f in AuditEvent._meta.concrete_fields])
    ]
    assert len(stored) == 3  # added, key changed, failed login (the invalid edit changed nothing)
    for text in [activity, *admin_pages, *stored]:
        for secret in (TYPED_KEY, TYPED_SECRET, NEW_KEY, NEW_SECRET, WRONG_PASSWORD, "alice-password-1"):
            assert secret not in text
