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


class SecurityHeadersMiddleware:
    """The security headers on every answer, whoever made it.

    Django's ``SecurityMiddleware`` (HSTS, nosniff, Referrer-Policy,
    Cross-Origin-Opener-Policy) and ``XFrameOptionsMiddleware`` add theirs
    only to answers that pass back through them: ``/healthz`` (answered
    first) and static files (WhiteNoise answers before the clickjacking
    middleware) went without some. First in the list, this adds what is
    missing to every answer — the Content-Security-Policy of
    ``CONTENT_SECURITY_POLICY`` (no framing, no plugins, forms and ``<base>``
    to this site only) and the others with the values Django's settings give —
    and never overrides a header a view or middleware set.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.conf import settings

        response = self.get_response(request)
        if settings.CONTENT_SECURITY_POLICY:
            response.headers.setdefault("Content-Security-Policy", settings.CONTENT_SECURITY_POLICY)
        if not getattr(response, "xframe_options_exempt", False):
            response.headers.setdefault("X-Frame-Options", settings.X_FRAME_OPTIONS)
        if settings.SECURE_HSTS_SECONDS and request.is_secure():  # /healthz asked over HTTPS too
            hsts = f"max-age={settings.SECURE_HSTS_SECONDS}"
            hsts += "; includeSubDomains" if settings.SECURE_HSTS_INCLUDE_SUBDOMAINS else ""
            hsts += "; preload" if settings.SECURE_HSTS_PRELOAD else ""
            response.headers.setdefault("Strict-Transport-Security", hsts)
        if settings.SECURE_CONTENT_TYPE_NOSNIFF:
            response.headers.setdefault("X-Content-Type-Options", "nosniff")
        if settings.SECURE_REFERRER_POLICY:
            response.headers.setdefault("Referrer-Policy", str(settings.SECURE_REFERRER_POLICY))
        if settings.SECURE_CROSS_ORIGIN_OPENER_POLICY:
            response.headers.setdefault("Cross-Origin-Opener-Policy", settings.SECURE_CROSS_ORIGIN_OPENER_POLICY)
        return response
