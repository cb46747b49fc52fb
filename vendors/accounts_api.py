"""``POST /api/v1/vendors/<id>/account-invitation/``: send a trader their login
by SMS (``vendors.accounts.vendor_account_invite``)."""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.api import InvitationOutput
from vendors import selectors
from vendors.accounts import vendor_account_invite


class VendorAccountInvitationApi(APIView):
    """Create the trader's login if the stall has none and send the invitation
    (whoever onboards in the trader's market); again: a new invitation replaces the old."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={201: InvitationOutput})
    def post(self, request: Request, pk: int) -> Response:
        vendor = generics.get_object_or_404(selectors.vendor_list(user=request.user), pk=pk)
        invitation = vendor_account_invite(actor=request.user, vendor=vendor)  # type: ignore[arg-type]
        return Response(InvitationOutput(invitation).data, status=status.HTTP_201_CREATED)
