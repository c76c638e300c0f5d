"""Security headers and the client address used by login throttling."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

# No inline scripts or styles anywhere: every script and stylesheet is a vendored static file.
DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)


class ContentSecurityPolicyMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.policy = getattr(settings, "CONTENT_SECURITY_POLICY", DEFAULT_CSP)

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        response.headers.setdefault("Content-Security-Policy", self.policy)
        return response


def client_ip_address(request: HttpRequest) -> str | None:
    """The address login throttling counts failures against (django-axes' ``AXES_CLIENT_IP_CALLABLE``).

    Without trusted proxies it is REMOTE_ADDR. With ``TRUSTED_PROXY_COUNT`` = n, it is the n-th address from the
    right of X-Forwarded-For: each trusted proxy appends the address it saw, so entries further left were written
    by the client and could be forged to dodge a lockout or to lock somebody else out.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    count = getattr(settings, "TRUSTED_PROXY_COUNT", 0)
    if count <= 0:
        return remote
    hops = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if len(hops) < count:
        return remote  # the request did not pass through every trusted proxy: trust only the socket
    return hops[-count]
