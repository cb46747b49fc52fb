from __future__ import annotations

from django.urls import path

from accounts import invitation_views
from accounts.views import SignInView, SignOutView

app_name = "accounts"

urlpatterns = [
    path("login/", SignInView.as_view(), name="login"),
    path("logout/", SignOutView.as_view(), name="logout"),
    path("invite/", invitation_views.invite_code, name="invite_code"),
    path("invite/password/", invitation_views.invite_password, name="invite_password"),
    path("invite/<str:token>/", invitation_views.invite_link, name="invite_link"),
]
