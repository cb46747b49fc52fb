"""The invitation pages: open an invitation, set a password, be signed in.

- ``GET /invite/<token>/`` (the link in the SMS) and ``/invite/`` (phone number
  and the code from the SMS) prove the browser holds an invitation; the
  invitation's id is kept in the session and the browser goes on to
- ``/invite/password/``: the new password twice (Django's validators); the
  invitation is used, the login activated, the person signed in and sent to
  ``/`` (their role's page).

The token leaves the address bar at once (a redirect), so it does not linger
in the history or a Referer. A link that is wrong, used, replaced or expired
shows why, in words, with a 404 or 409; nothing here answers 500.
"""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import login
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

from accounts.forms import InvitationCodeForm, InvitationPasswordForm
from accounts.invitations import invitation_accept, invitation_by_code, invitation_by_token, invitation_open
from chopay.identifiers import display_vn_mobile
from common.errors import DomainError

SESSION_KEY = "accounts.invitation_id"
_BACKEND = "django.contrib.auth.backends.ModelBackend"


def _problem(request: HttpRequest, error: DomainError) -> HttpResponse:
    return render(request, "accounts/invite_problem.html", {"error": error}, status=error.status)


@never_cache
def invite_link(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = invitation_by_token(token)
    except DomainError as error:
        return _problem(request, error)
    request.session[SESSION_KEY] = invitation.pk
    return HttpResponseRedirect(reverse("accounts:invite_password"))


@never_cache
@csrf_protect
@sensitive_post_parameters("code")
def invite_code(request: HttpRequest) -> HttpResponse:
    form = InvitationCodeForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            invitation = invitation_by_code(request, phone=form.cleaned_data["phone"], code=form.cleaned_data["code"])
        except DomainError as error:
            form.add_error(error.field if error.field in form.fields else None, error.message)
        else:
            request.session[SESSION_KEY] = invitation.pk
            return HttpResponseRedirect(reverse("accounts:invite_password"))
    return render(request, "accounts/invite_code.html", {"form": form})


@never_cache
@csrf_protect
@sensitive_post_parameters("new_password1", "new_password2")
def invite_password(request: HttpRequest) -> HttpResponse:
    invitation_id = request.session.get(SESSION_KEY)
    if invitation_id is None:
        return HttpResponseRedirect(reverse("accounts:invite_code"))
    try:
        invitation = invitation_open(int(invitation_id))
    except DomainError as error:
        request.session.pop(SESSION_KEY, None)
        return _problem(request, error)
    form = InvitationPasswordForm(invitation.user, request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = invitation_accept(invitation_id=invitation.pk, password=form.cleaned_data["new_password1"])
        except DomainError as error:
            request.session.pop(SESSION_KEY, None)
            return _problem(request, error)
        except ValidationError as error:
            form.add_error("new_password1", error)
        else:
            request.session.pop(SESSION_KEY, None)
            login(request, user, backend=_BACKEND)
            return HttpResponseRedirect(settings.LOGIN_REDIRECT_URL and reverse(settings.LOGIN_REDIRECT_URL))
    context = {"form": form, "invitation": invitation, "phone": display_vn_mobile(invitation.phone)}
    return render(request, "accounts/invite_password.html", context)
