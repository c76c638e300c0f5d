"""Every URL the project defines answers an anonymous visitor with a login page or a redirect to one."""

from __future__ import annotations

import uuid
from urllib.parse import urlparse

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse
from django.urls.exceptions import NoReverseMatch

# Sample values for path parameters, by converter (route patterns) or by group name (the admin's regex patterns).
SAMPLES_BY_CONVERTER = {"int": "1", "str": "x", "slug": "x", "path": "x", "uuid": str(uuid.UUID(int=1))}
SAMPLES_BY_NAME = {"app_label": "auth", "object_id": "1", "content_type_id": "1", "pk": "1", "url": "x"}
LOGIN_PAGES = {"login", "admin:login"}


def walk(patterns, namespace: str | None = None):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            inner = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else entry.namespace or namespace
            yield from walk(entry.url_patterns, inner)
        elif isinstance(entry, URLPattern) and entry.name:
            yield (f"{namespace}:{entry.name}" if namespace else entry.name), entry


def sample_url(name: str, pattern: URLPattern) -> str:
    converters = getattr(pattern.pattern, "converters", {})
    kwargs = {key: SAMPLES_BY_CONVERTER.get(type(conv).__name__.replace("Converter", "").lower(), "1")
              for key, conv in converters.items()}  # fmt: skip
    for group in pattern.pattern.regex.groupindex:
        kwargs.setdefault(group, SAMPLES_BY_NAME.get(group, "1"))
    try:
        return reverse(name, kwargs=kwargs)
    except NoReverseMatch as exc:  # a new parameter name: teach SAMPLES_BY_NAME rather than skipping it
        raise AssertionError(f"no sample URL for {name}: {exc}") from exc


ALL_URLS = sorted({(name, sample_url(name, pattern)) for name, pattern in walk(get_resolver().url_patterns)})


def test_the_walk_finds_the_app_and_admin_urls():
    """The URL walk sees the app's pages and the admin, so the test below cannot pass vacuously."""
    names = {name for name, _ in ALL_URLS}
    assert {"dashboard", "login", "logout", "password_change", "admin:index"} <= names
    assert len(ALL_URLS) > 20


@pytest.mark.django_db
@pytest.mark.parametrize(("name", "url"), ALL_URLS, ids=[name for name, _ in ALL_URLS])
def test_anonymous_request_redirects_to_login(client, name, url):
    """Anonymous GET of any URL is the login page itself or a redirect to a login page."""
    response = client.get(url)
    if name in LOGIN_PAGES:
        assert response.status_code == 200
        return
    assert response.status_code == 302, f"{url} answered {response.status_code}"
    target = urlparse(response["Location"]).path
    assert target in {reverse("login"), reverse("admin:login")}, f"{url} redirected to {target}"
