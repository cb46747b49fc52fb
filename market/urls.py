from django.urls import path

from market import api, invitations_api

urlpatterns = [
    path("provinces/", api.ProvinceListApi.as_view(), name="province-list"),
    path("provinces/<str:code>/wards/", api.WardListApi.as_view(), name="province-wards"),
    path("banks/", api.BankListApi.as_view(), name="bank-list"),
    path("markets/", api.MarketListCreateApi.as_view(), name="market-list"),
    path("markets/<int:pk>/", api.MarketDetailApi.as_view(), name="market-detail"),
    path("markets/<int:pk>/invitations/", invitations_api.MarketInvitationApi.as_view(), name="market-invitations"),
]
