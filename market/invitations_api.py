"""``POST /api/v1/markets/<id>/invitations/``: invite a board member or a volunteer
(``market.invitations``; who may is ``market.roles``'). A market outside the
caller's scope is a 404."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, serializers, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import InvitationOutput
from market import selectors
from market.invitations import invite_board_member, invite_volunteer


class InvitationInput(serializers.Serializer[dict[str, str]]):
    role = serializers.ChoiceField(choices=["board", "volunteer"])
    full_name = serializers.CharField(max_length=128)
    phone = serializers.CharField(max_length=32, help_text="A Vietnamese mobile number, any usual spelling.")


class MarketInvitationApi(APIView):
    """Invite a person by SMS: ``board`` (the province's officers) or ``volunteer``
    (the market's board, the officers). Creates their login and role, or gives
    the role to the login already on record for the phone; a new invitation
    replaces the person's open one."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=InvitationInput, responses={201: InvitationOutput})
    def post(self, request: Request, pk: int) -> Response:
        market = generics.get_object_or_404(selectors.market_list(user=request.user), pk=pk)
        data = InvitationInput(data=request.data)
        data.is_valid(raise_exception=True)
        service = invite_board_member if data.validated_data["role"] == "board" else invite_volunteer
        invitation = service(
            actor=request.user,  # type: ignore[arg-type]
            market=market,
            full_name=data.validated_data["full_name"],
            phone=data.validated_data["phone"],
        )
        return Response(InvitationOutput(invitation).data, status=status.HTTP_201_CREATED)
