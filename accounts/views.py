"""The web sign-in page (``/login/``) and signing out (``POST /logout/``).

Signing in goes through the same form, and so the same throttle, as the
admin (``accounts.forms.SignInForm``, ``accounts.sign_in``). Where to go
afterwards: ``next`` when it is a path on this site, else ``/``, which sends
each role to its own page (``config.views.home``).
"""

from __future__ import annotations

from django.contrib.auth import views as auth_views
from django.utils.http import url_has_allowed_host_and_scheme

from accounts.forms import SignInForm


def is_local_path(url: str) -> bool:
    """A path on this site (``/dashboard/?period=7d``): no scheme, no host, no ``//``, no backslash."""
    return (
        url.startswith("/")
        and not url.startswith("//")
        and "\\" not in url
        and url_has_allowed_host_and_scheme(url, allowed_hosts=None)
    )


class LocalNextMixin(auth_views.RedirectURLMixin):
    """``next`` is followed only to a path on this site (Django's check also lets
    a full URL naming this host through; a path is all a page ever needs)."""

    def get_redirect_url(self) -> str:
        url = super().get_redirect_url()
        return url if is_local_path(url) else ""


class SignInView(LocalNextMixin, auth_views.LoginView):
    template_name = "accounts/login.html"
    authentication_form = SignInForm
    redirect_authenticated_user = True


class SignOutView(LocalNextMixin, auth_views.LogoutView):
    """POST only, as Django's (a link or an image cannot sign anyone out); then ``/``."""
