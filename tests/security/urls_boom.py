"""The project's URLs plus one view that raises, to see what a 500 shows."""

from django.http import HttpRequest, HttpResponse
from django.urls import path

from fundarb_site.urls import urlpatterns as project_urlpatterns


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError("boom-secret-in-exception: an exception message must never reach the page")


urlpatterns = [path("boom/", boom), *project_urlpatterns]
