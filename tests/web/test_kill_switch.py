"""The kill switches: one user's 'pause everything', and staff's halt for every user."""

from __future__ import annotations

import pytest
from django.urls import reverse

from arbitrage.models import Installation, KillSwitch

pytestmark = pytest.mark.django_db


def test_user_engages_and_releases_their_kill_switch(alice_client, user):
    """POST engaged=1 engages it (banner on every page), engaged=0 releases it."""
    alice_client.post(reverse("kill_switch"), {"engaged": "1"})
    assert KillSwitch.objects.get(user=user).engaged
    for name in ("dashboard", "subscription_list", "execution_list"):
        html = alice_client.get(reverse(name)).content.decode()
        assert "Trading paused." in html and "Your kill switch is engaged" in html
    assert "Release my kill switch" in alice_client.get(reverse("dashboard")).content.decode()
    alice_client.post(reverse("kill_switch"), {"engaged": "0"})
    assert not KillSwitch.objects.get(user=user).engaged
    assert "Trading paused." not in alice_client.get(reverse("dashboard")).content.decode()


def test_kill_switch_one_user_does_not_pause_another(alice_client, user, other_user):
    """alice's switch is hers alone."""
    alice_client.post(reverse("kill_switch"), {"engaged": "1"})
    assert not KillSwitch.objects.filter(user=other_user, engaged=True).exists()


@pytest.mark.parametrize("value", ["", "yes", "2", "<b>"])
def test_kill_switch_rejects_odd_values(alice_client, user, value):
    """Anything but 0 or 1 is reported and changes nothing."""
    response = alice_client.post(reverse("kill_switch"), {"engaged": value}, follow=True)
    assert "send engaged=1 or engaged=0" in response.content.decode()
    assert not KillSwitch.objects.filter(user=user).exists()


def test_kill_switch_is_post_only(alice_client):
    """GET does not toggle anything."""
    assert alice_client.get(reverse("kill_switch")).status_code == 405
    assert alice_client.get(reverse("trading_halt")).status_code == 405


def test_non_staff_cannot_halt_everybody(alice_client):
    """The global halt is refused (403) for a non-staff user and its button is not shown."""
    assert alice_client.post(reverse("trading_halt"), {"engaged": "1"}).status_code == 403
    assert not Installation.objects.filter(trading_halted=True).exists()
    assert "Halt all users" not in alice_client.get(reverse("dashboard")).content.decode()


def test_staff_without_change_installation_see_no_halt_button(client, user):
    """Being staff is not enough: without the permission there is no button and the POST is a 403."""
    user.is_staff = True
    user.save(update_fields=["is_staff"])
    client.force_login(user)
    assert "Halt all users" not in client.get(reverse("dashboard")).content.decode()
    assert client.post(reverse("trading_halt"), {"engaged": "1"}).status_code == 403
    assert not Installation.current().trading_halted


def test_staff_halt_everybody_and_everybody_sees_it(client, user, other_user):
    """Staff with the 'change installation' permission halt trading for all; another user's pages show the halt."""
    from django.contrib.auth.models import Permission

    other_user.is_staff = True
    other_user.save(update_fields=["is_staff"])
    other_user.user_permissions.add(Permission.objects.get(codename="change_installation"))
    client.force_login(other_user)
    assert "Halt all users" in client.get(reverse("dashboard")).content.decode()
    client.post(reverse("trading_halt"), {"engaged": "1"})
    assert Installation.current().trading_halted
    client.force_login(user)
    assert "Staff halted trading for every user" in client.get(reverse("dashboard")).content.decode()
    client.force_login(other_user)
    client.post(reverse("trading_halt"), {"engaged": "0"})
    assert not Installation.current().trading_halted
