"""Signing in: the sign-in throttle (``accounts.sign_in``) every sign-in form
and endpoint goes through, and the API tokens it hands out (``ApiToken``)."""
