"""Display filters: money, rates, the T-relative timeline offsets and latencies, and the kill-switch banner."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from django import template

from arbitrage.selectors import kill_switch_state

register = template.Library()


def _decimal(value) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        return value if isinstance(value, Decimal) else Decimal(str(value))
    except InvalidOperation:
        return None


@register.filter
def money(value, places: int = 4) -> str:
    """Signed USDT amount: ``+1.2345`` / ``-0.0100``; an em dash when unknown."""
    number = _decimal(value)
    if number is None:
        return "—"
    return f"{number:+.{int(places)}f}"


@register.filter
def sign_class(value) -> str:
    number = _decimal(value)
    if number is None or number == 0:
        return ""
    return "pos" if number > 0 else "neg"


@register.filter
def pct(value, places: int = 4) -> str:
    """A rate as a signed percentage: 0.0001 -> ``+0.0100%``."""
    number = _decimal(value)
    if number is None:
        return "—"
    return f"{number * 100:+.{int(places)}f}%"


@register.filter
def qty(value) -> str:
    """A quantity without trailing zeros."""
    number = _decimal(value)
    if number is None:
        return "—"
    return f"{number.normalize():f}"


@register.filter
def t_offset(at: datetime | None, funding_time: datetime | None) -> str:
    """Seconds from the funding instant with the sign shown and milliseconds: ``T-30.004 s``."""
    if at is None or funding_time is None:
        return "—"
    return f"T{(at - funding_time).total_seconds():+.3f} s"


@register.filter
def ms(value) -> str:
    number = _decimal(value)
    if number is None:
        return ""
    return f"{number:.0f} ms" if abs(number) >= 10 else f"{number:.1f} ms"


@register.filter
def latency(order) -> str:
    """Time from sending an order to its acknowledgement."""
    if order.sent_at is None or order.acked_at is None:
        return "—"
    return ms(Decimal(str((order.acked_at - order.sent_at).total_seconds() * 1000)))


@register.filter
def status_badge(status: str) -> str:
    """The badge colour for an execution or subscription status."""
    good = {"completed", "active", "filled", "acked", "ok"}
    bad = {"failed", "error", "unwound", "unwinding", "rejected", "reconciling"}
    warn = {"skipped", "paused", "sent", "partially_filled", "not_placed", "pending"}
    if status in good:
        return "good"
    if status in bad:
        return "bad"
    return "warn" if status in warn else ""


@register.inclusion_tag("arbitrage/_kill_switch_banner.html", takes_context=True)
def kill_switch_banner(context) -> dict:
    user = context["request"].user
    # The dashboard has just read the switches for its own card: the banner shows the same state, read once.
    state = context.get("kill") or kill_switch_state(user=user)
    return {"state": state, "user": user, "request": context["request"]}


@register.filter
def secs_ms(value) -> str:
    """Seconds (float) shown as milliseconds."""
    if value is None:
        return "—"
    return ms(Decimal(str(value)) * 1000)


@register.filter
def venue_label(value: str) -> str:
    """``bingx`` -> ``BingX``; an unknown value is shown as it is."""
    from arbitrage.models import Exchange

    return Exchange(value).label if value in Exchange.values else value
