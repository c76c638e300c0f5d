"""Telling the owner: a dashboard notice and an email, for errors and unwinds."""

from __future__ import annotations

import logging

from django.core.mail import send_mail

from arbitrage.models import Execution, Notice, Subscription

logger = logging.getLogger(__name__)


def notify_owner(*, subscription: Subscription, message: str, execution: Execution | None = None) -> Notice:
    notice = Notice.objects.create(
        user_id=subscription.owner_id, message=message, subscription=subscription, execution=execution
    )
    recipient = subscription.owner.email
    if recipient:
        try:
            send_mail(
                subject=f"fundarb: {subscription.symbol} needs your attention",
                message=message,
                from_email=None,
                recipient_list=[recipient],
            )
        except Exception:  # a mail outage must not break the money path; the notice is on the dashboard
            logger.exception("could not email the owner of subscription %s", subscription.pk)
    return notice
