"""The market board's pages (``/onboard/markets/<id>/…``): the board's home,
the review queue of registrations (approve, reject with a reason), pending
payout-account changes, and printing the whole market's cards. Rules stay in
``vendors.reviews``, ``vendors.payout_changes`` and ``payments.cards``."""
