"""``/api/v1/docs/``: Swagger UI (drf-spectacular-sidecar's files, no CDN) under
the site's Content-Security-Policy.

drf-spectacular's own page starts Swagger UI with an inline script and
styles it with an inline ``<style>``, both refused by the policy
(``default-src 'self'``, no ``'unsafe-inline'``). This view renders a template
of ours instead (``templates/api/docs.html``): the settings travel as a JSON
data block (``json_script``, never executed) that a static file,
``static/js/api-docs.js`` (drf-spectacular's ``swagger_ui.js`` made static),
reads. drf-spectacular's ``SpectacularSwaggerSplitView`` would serve that
script from the view instead, with the page's CSRF token written into
JavaScript that any other site may include with a ``<script src>``.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ImproperlyConfigured
from django.middleware.csrf import get_token
from drf_spectacular.settings import spectacular_settings
from drf_spectacular.utils import extend_schema
from drf_spectacular.views import SpectacularSwaggerView


class ApiDocsView(SpectacularSwaggerView):
    """Swagger UI started by a static script, with the site's
    Cross-Origin-Opener-Policy: drf-spectacular sends ``unsafe-none`` for
    OAuth2 sign-in pop-ups, which this API does not use (found by the
    deployment drill's header sweep)."""

    template_name = "api/docs.html"

    @extend_schema(exclude=True)
    def get(self, request: Any, *args: Any, **kwargs: Any) -> Any:
        ui_settings = spectacular_settings.SWAGGER_UI_SETTINGS
        if isinstance(ui_settings, str):  # drf-spectacular allows raw JavaScript there; a static file cannot
            raise ImproperlyConfigured("SWAGGER_UI_SETTINGS must be a dict: the docs page runs no inline script")
        response = super().get(request, *args, **kwargs)
        data = response.data
        response.data = {
            "title": data["title"],
            "swagger_ui_css": data["swagger_ui_css"],
            "swagger_ui_bundle": data["swagger_ui_bundle"],
            "swagger_ui_standalone": data["swagger_ui_standalone"],
            "favicon_href": data["favicon_href"],
            "config": {
                "schemaUrl": data["schema_url"],
                "settings": ui_settings,
                "oauth2Config": spectacular_settings.SWAGGER_UI_OAUTH2_CONFIG or None,
                "schemaAuthNames": self._get_schema_auth_names(),
                "csrfHeaderName": data["csrf_header_name"],
                "csrfToken": get_token(request),
            },
        }
        response.headers["Cross-Origin-Opener-Policy"] = "same-origin"
        return response
