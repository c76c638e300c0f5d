"""The audit trail: who did what security-relevant, when, from which address, to whose object.

Services that perform an audited action take ``actor: Actor | None = None`` (None: the system did it) and call
``audit_record``; pages, the admin and commands pass who they act for. Nothing secret is ever written: callers pass
labels, choices and outcomes, never a key, a secret or a password.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import ClassVar

from django.contrib.auth import get_user_model
from django.db.models import Model
from django.http import HttpRequest
from django.urls import reverse

from arbitrage.models import AuditAction, AuditEvent, AuditVia
from arbitrage.services import clock
from fundarb_site.middleware import client_ip_address

MAX_DETAIL = 500


def _address(value: str | None) -> str | None:
    try:
        return str(ipaddress.ip_address(value)) if value else None
    except ValueError:
        return None  # a proxy wrote something that is not an address: better none than a wrong one


@dataclass(frozen=True)
class Actor:
    user_id: int | None
    username: str
    via: str
    address: str | None = None

    SYSTEM: ClassVar[Actor]

    @classmethod
    def from_request(cls, request: HttpRequest, *, via: str = AuditVia.WEB) -> Actor:
        user = request.user
        known = user.is_authenticated
        return cls(
            user_id=user.pk if known else None,
            username=user.get_username() if known else "",
            via=via,
            address=_address(client_ip_address(request)),
        )

    @classmethod
    def command(cls, name: str) -> Actor:
        return cls(user_id=None, username=f"manage.py {name}", via=AuditVia.COMMAND)


Actor.SYSTEM = Actor(user_id=None, username="system", via=AuditVia.SYSTEM)


def _owner_of(obj: Model | None):
    if obj is None:
        return None
    if isinstance(obj, get_user_model()):
        return obj
    for name in ("owner", "user"):
        if hasattr(obj, f"{name}_id"):
            return getattr(obj, name)
    return None


def audit_record(
    *, actor: Actor | None, action: str, obj: Model | None = None, owner=None, detail: str = ""
) -> AuditEvent:
    """Append one row. ``owner`` defaults to the user whose object ``obj`` is (its owner or user)."""
    actor = actor or Actor.SYSTEM
    owner = owner if owner is not None else _owner_of(obj)
    return AuditEvent.objects.create(
        at=clock.now(),
        actor_id=actor.user_id,
        actor_username=actor.username[:150],
        via=actor.via,
        address=actor.address,
        action=action,
        object_type=str(obj._meta.verbose_name)[:40] if obj is not None else "",
        object_id=str(obj.pk) if obj is not None and obj.pk is not None else "",
        object_text=str(obj)[:200] if obj is not None else "",
        owner=owner,
        owner_username=owner.get_username() if owner is not None else "",
        detail=" ".join(detail.split())[:MAX_DETAIL],
    )


def login_failure_record(
    *, request: HttpRequest | None, username: str, action: str = AuditAction.LOGIN_FAILED, detail: str = ""
) -> AuditEvent:
    """A failed login or a lockout: the attempted username is kept (and the row is that user's, when such a user
    exists), never the password."""
    username = (username or "")[:150]
    model = get_user_model()
    owner = model._default_manager.filter(**{model.USERNAME_FIELD: username}).first() if username else None
    via = AuditVia.WEB
    if request is not None and request.path.startswith(reverse("admin:index")):
        via = AuditVia.ADMIN
    return AuditEvent.objects.create(
        at=clock.now(),
        actor_username="",
        via=via,
        address=_address(client_ip_address(request)) if request is not None else None,
        action=action,
        object_type="user" if owner is not None else "",
        object_id=str(owner.pk) if owner is not None else "",
        object_text=username,
        owner=owner,
        owner_username=username,
        detail=" ".join(detail.split())[:MAX_DETAIL],
    )
