"""Sign-in forms behind the throttle: the admin's, and the web sign-in page's
(``accounts.views.SignInView``, a ``LoginView(authentication_form=SignInForm)``);
the invitation pages' forms (``accounts.invitation_views``)."""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm, SetPasswordForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.sign_in import SignInUnavailable, TooManyAttempts, sign_in


class SignInForm(AuthenticationForm):
    """``AuthenticationForm`` whose password check goes through ``accounts.sign_in``:
    a username or the phone number of one's stall, and the password."""

    error_messages = {
        **AuthenticationForm.error_messages,
        "invalid_login": _(
            "The username, phone number or password is not right. Check them and try again "
            "(the password is case-sensitive)."
        ),
    }

    throttle_messages = {
        "too_many_attempts": _(
            "Too many failed sign-in attempts for this account or from this network. Try again in %(minutes)d minutes."
        ),
        "sign_in_unavailable": _("Sign-in is unavailable for a moment. Please try again shortly."),
    }

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        username = self.fields["username"]
        username.label = _("Username or phone number")
        username.widget.attrs.update({"autocapitalize": "none", "spellcheck": "false"})

    def clean(self) -> dict[str, Any]:
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            try:
                self.user_cache = sign_in(self.request, username=username, password=password)
            except TooManyAttempts as refused:
                raise ValidationError(
                    self.throttle_messages["too_many_attempts"],
                    code="too_many_attempts",
                    params={"minutes": max(1, -(-refused.retry_after // 60))},
                ) from None
            except SignInUnavailable:
                raise ValidationError(
                    self.throttle_messages["sign_in_unavailable"], code="sign_in_unavailable"
                ) from None
            if self.user_cache is None:
                raise self.get_invalid_login_error()
            self.confirm_login_allowed(self.user_cache)
        return self.cleaned_data


class AdminSignInForm(SignInForm, AdminAuthenticationForm):
    """The admin's login form (staff only, as Django's), behind the throttle."""

    error_messages = AdminAuthenticationForm.error_messages


class InvitationCodeForm(forms.Form):
    """The phone number an invitation was sent to and the code in its SMS (``/invite/``)."""

    phone = forms.CharField(label=_("Your phone number"), max_length=32)
    code = forms.CharField(label=_("Code from the SMS"), max_length=16)


class InvitationPasswordForm(SetPasswordForm):  # type: ignore[type-arg]
    """Django's new-password form (the validators of ``AUTH_PASSWORD_VALIDATORS``), labelled for people."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = _("New password")
        self.fields["new_password2"].label = _("The new password again")
        self.fields["new_password1"].help_text = _(
            "At least 8 characters; not only digits, not a common password, not like your name or phone number."
        )
