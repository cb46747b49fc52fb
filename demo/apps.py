from django.apps import AppConfig


class DemoConfig(AppConfig):
    """Demo data for `make run`: markets, boards, volunteers, vendors and their
    payments. Above payments, since it creates rows of every app below it."""

    name = "demo"
