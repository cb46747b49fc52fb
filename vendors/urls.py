from django.urls import path

from vendors import api

urlpatterns = [
    path("vendors/", api.VendorListCreateApi.as_view(), name="vendor-list"),
    path("vendors/me/", api.VendorMeApi.as_view(), name="vendor-me"),
    path("vendors/<int:pk>/", api.VendorDetailApi.as_view(), name="vendor-detail"),
    path("vendors/<int:pk>/status/", api.VendorStatusApi.as_view(), name="vendor-status"),
]
