"""What the invitation endpoints answer (``market.invitations_api``,
``vendors.accounts_api``): never the link's token nor the code, which only
the SMS carries."""

from __future__ import annotations

from rest_framework import serializers

from accounts.models import Invitation


class InvitationOutput(serializers.ModelSerializer[Invitation]):
    role = serializers.CharField(source="kind")
    market = serializers.CharField(source="place")

    class Meta:
        model = Invitation
        fields = ["id", "user", "role", "market", "phone", "created_at", "expires_at"]
