"""Middleware of the project's own."""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from config import health


class HealthzMiddleware:
    """Answer ``/healthz`` before any other middleware looks at the request.

    Container and load-balancer health checks call the server by its own
    address (``Host: 127.0.0.1``) over plain HTTP. Further down, ALLOWED_HOSTS
    would refuse that Host with a 400 and SECURE_SSL_REDIRECT would send a 301
    to https, so a strict production configuration would mark a healthy
    server as down and the proxy would never start. The answer holds no
    secret (database and broker up or down) and is never cached.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.path_info == "/healthz" and request.method == "GET":
            return health.healthz(request)
        return self.get_response(request)
