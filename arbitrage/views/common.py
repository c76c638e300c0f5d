"""Helpers shared by the page modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.core.exceptions import ObjectDoesNotExist
from django.http import Http404, HttpRequest

T = TypeVar("T")


def owned_or_404(selector: Callable[..., T], request: HttpRequest, pk: int) -> T:
    """Fetch through a ``*_for_user`` selector; another user's id (or none) is a 404, never a 403 that leaks it."""
    try:
        return selector(user=request.user, pk=pk)
    except ObjectDoesNotExist:
        raise Http404("Not found") from None


def plain_errors(error) -> str:
    """A service ValidationError as one readable sentence for a flash message."""
    return " ".join(error.messages)
