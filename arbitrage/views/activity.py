"""Activity: the audit trail of the user's own objects and logins, including what staff did to them."""

from __future__ import annotations

from dataclasses import dataclass

from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from arbitrage.models import AuditEvent, AuditVia
from arbitrage.selectors import audit_events_for_owner

PAGE_SIZE = 25


@dataclass(frozen=True)
class ActivityRow:
    event: AuditEvent
    who: str


def _who(event: AuditEvent, viewer) -> str:
    if event.actor_id is not None and event.actor_id == viewer.pk:
        return "you"
    if event.via == AuditVia.SYSTEM:
        return "system"
    return event.actor_username or "someone not logged in"


def activity_list(request: HttpRequest) -> HttpResponse:
    page = Paginator(audit_events_for_owner(user=request.user), PAGE_SIZE).get_page(request.GET.get("page"))
    rows = [ActivityRow(event=event, who=_who(event, request.user)) for event in page.object_list]
    return render(request, "arbitrage/activity.html", {"nav": "activity", "page": page, "rows": rows})
