from django.urls import path

from vendors import accounts_api, api, claims_api, payout_changes_api

urlpatterns = [
    path("vendors/", api.VendorListCreateApi.as_view(), name="vendor-list"),
    path("vendors/me/", api.VendorMeApi.as_view(), name="vendor-me"),
    path("vendors/account-claims/", claims_api.ClaimListCreateApi.as_view(), name="account-claim-list"),
    path("vendors/account-claims/<int:pk>/", claims_api.ClaimDetailApi.as_view(), name="account-claim-detail"),
    path(
        "vendors/account-claims/<int:pk>/confirm/", claims_api.ClaimConfirmApi.as_view(), name="account-claim-confirm"
    ),
    path(
        "vendors/account-claims/<int:pk>/approve/", claims_api.ClaimApproveApi.as_view(), name="account-claim-approve"
    ),
    path("vendors/account-claims/<int:pk>/reject/", claims_api.ClaimRejectApi.as_view(), name="account-claim-reject"),
    path("vendors/<int:pk>/", api.VendorDetailApi.as_view(), name="vendor-detail"),
    path("vendors/<int:pk>/status/", api.VendorStatusApi.as_view(), name="vendor-status"),
    path(
        "vendors/<int:pk>/account-invitation/",
        accounts_api.VendorAccountInvitationApi.as_view(),
        name="vendor-account-invitation",
    ),
    path(
        "vendors/<int:pk>/payout-changes/",
        payout_changes_api.PayoutChangeListCreateApi.as_view(),
        name="payout-change-list",
    ),
    path(
        "vendors/<int:pk>/payout-changes/<int:change_id>/",
        payout_changes_api.PayoutChangeDetailApi.as_view(),
        name="payout-change-detail",
    ),
    path(
        "vendors/<int:pk>/payout-changes/<int:change_id>/approve/",
        payout_changes_api.PayoutChangeApproveApi.as_view(),
        name="payout-change-approve",
    ),
    path(
        "vendors/<int:pk>/payout-changes/<int:change_id>/reject/",
        payout_changes_api.PayoutChangeRejectApi.as_view(),
        name="payout-change-reject",
    ),
    path(
        "vendors/<int:pk>/payout-changes/<int:change_id>/cancel/",
        payout_changes_api.PayoutChangeCancelApi.as_view(),
        name="payout-change-cancel",
    ),
]
