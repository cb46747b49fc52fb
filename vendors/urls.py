from django.urls import path

from vendors import api

urlpatterns = [
    path("vendors/", api.VendorListCreateApi.as_view(), name="vendor-list"),
    path("vendors/me/", api.VendorMeApi.as_view(), name="vendor-me"),
    path("vendors/<int:pk>/", api.VendorDetailApi.as_view(), name="vendor-detail"),
    path("vendors/<int:pk>/status/", api.VendorStatusApi.as_view(), name="vendor-status"),
    path("vendors/<int:pk>/payout-changes/", api.PayoutChangeListCreateApi.as_view(), name="payout-change-list"),
    path(
        "vendors/<int:pk>/payout-changes/<int:change_id>/",
        api.PayoutChangeDetailApi.as_view(),
        name="payout-change-detail",
    ),
    path(
        "vendors/<int:pk>/payout-changes/<int:change_id>/approve/",
        api.PayoutChangeApproveApi.as_view(),
        name="payout-change-approve",
    ),
    path(
        "vendors/<int:pk>/payout-changes/<int:change_id>/reject/",
        api.PayoutChangeRejectApi.as_view(),
        name="payout-change-reject",
    ),
    path(
        "vendors/<int:pk>/payout-changes/<int:change_id>/cancel/",
        api.PayoutChangeCancelApi.as_view(),
        name="payout-change-cancel",
    ),
]
