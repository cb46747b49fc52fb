"""The role × endpoint matrix: for every named URL of ``config.urls`` (the
admin site aside: it has its own gate, ``market.roles.has_any_role``, and its
own tests), what the URL is about, the object each URL parameter names in the
cast (``drills.matrix_cast``), and for each method what each role gets.

Outcomes:
- ``ok``: let in — a 2xx, a redirect that is not to the sign-in page, or the
  input refused after the gate (400, 409, 410, 422: the matrix sends no or
  minimal bodies; a body is given where a service checks the role after the
  input, so that the role is what decides);
- ``403``: the role sees the object (or has no object) but may not do this;
- ``404``: the object is outside the role's scope: not found, as if it did not
  exist (a market named in a body is refused like an unknown one, 400
  ``does_not_exist`` with the same message: counted as 404);
- ``login``: not signed in — 401 (API, and the stall page's scripts) or a
  redirect to ``/login/`` (pages).

Outside one's scope the project answers 404 for pages too: a volunteer on a
board page, a trader on the dashboard (``stats.views``, ``onboarding``). The
stall's event stream refuses the anonymous with 403, not 401
(``stall.live.events`` asks for it); USSD without the aggregator's secret is 401.

``tests/drills/test_role_matrix.py`` fails when a URL has no entry here (or an
entry no URL), and plays every cell; ``drills/drill_role_matrix.py`` plays it
against a real gunicorn.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from drills.matrix_cast import ROLES

SIGNED_IN = tuple(r for r in ROLES if r != "anonymous")
MANAGERS = ("superuser", "officer", "board")  # manage the home market
ONBOARDERS = (*MANAGERS, "volunteer")  # onboard in it
SEERS = (*ONBOARDERS, "vendor")  # see it
OVERSEERS = ("superuser", "officer")  # oversee its province
STALLS = ("vendor", "other_vendor")  # a trader: their own stall, whichever it is


def rule(
    ok: tuple[str, ...] = (), forbid: tuple[str, ...] = (), *, rest: str = "404", anon: str = "login"
) -> dict[str, str]:
    """Role → outcome: ``ok`` let in, ``forbid`` 403, the other signed-in roles ``rest``."""
    return {r: (anon if r == "anonymous" else "ok" if r in ok else "403" if r in forbid else rest) for r in ROLES}


OPEN = rule(ROLES, anon="ok")  # public: anyone, signed in or not
ANY_SIGNED_IN = rule(SIGNED_IN)  # any login; a list or a tool scoped to the caller
STALL_PAGE = rule(STALLS, rest="403")  # a trader's own stall (pages and scripts)


@dataclass(frozen=True)
class Entry:
    about: str  # the object or scope the URL is about
    methods: dict[str, dict[str, str]]  # method → role → outcome
    kwargs: dict[str, str] = field(default_factory=dict)  # URL parameter → cast object
    bodies: dict[str, dict[str, Any]] = field(default_factory=dict)  # method → JSON body ("@x": cast object x)
    query: str = ""  # query string sent with every request


def e(
    about: str,
    kwargs: dict[str, str] | None = None,
    bodies: dict[str, dict[str, Any]] | None = None,
    query: str = "",
    **methods: dict[str, str],
) -> Entry:
    return Entry(about, methods, kwargs or {}, bodies or {}, query)


M = {"market_id": "market"}
ENTRIES: dict[str, Entry] = {
    # --- pages open to anyone ---------------------------------------------------------------
    "home": e("the landing page, or a redirect to one's role's page", GET=OPEN),
    "accounts:login": e("sign-in", GET=OPEN, POST=OPEN),
    "accounts:logout": e("sign-out of one's own session", POST=OPEN),
    "accounts:invite_code": e("an invitation by phone and code", GET=OPEN, POST=OPEN),
    "accounts:invite_password": e("the invitation held in one's session", GET=OPEN, POST=OPEN),
    "accounts:invite_link": e("an invitation by its secret link", {"token": "invitation_token"}, GET=OPEN),
    "healthz": e("database and broker status", GET=OPEN),
    "set_language": e("one's language cookie", GET=OPEN, POST=OPEN),
    "onboard:service-worker": e("the onboarding pages' offline script", GET=OPEN),
    # --- the dashboard ----------------------------------------------------------------------
    "dashboard:home": e(
        "one's own scope: the nation, one's province, one's market; a volunteer is sent to their row",
        GET=rule((*MANAGERS, "volunteer", "other_board", "other_volunteer", "far_officer")),
    ),
    "dashboard:province": e("the home province", {"code": "province"}, GET=rule(OVERSEERS)),
    "dashboard:market": e("the home market's statistics", M, GET=rule(MANAGERS)),
    "dashboard:volunteers": e(
        "volunteers of one's scope",
        GET=rule((*ONBOARDERS, "other_board", "other_volunteer", "far_officer")),
    ),
    "dashboard:target": e("the home market's target", {"kind": "target_market", "key": "market"}, POST=rule(MANAGERS)),
    # --- onboarding (volunteers, boards) ----------------------------------------------------
    "onboard:start": e(
        "one's markets to onboard in", GET=rule((*ONBOARDERS, "other_board", "other_volunteer", "far_officer"))
    ),
    "onboard:traders": e(
        "traders one onboarded", GET=rule((*ONBOARDERS, "other_board", "other_volunteer", "far_officer"))
    ),
    "onboard:trader-new": e("registering a trader in the home market", M, GET=rule(ONBOARDERS), POST=rule(ONBOARDERS)),
    "onboard:trader": e(
        "a trader under review in the home market", {"vendor_id": "pending_vendor"}, GET=rule(ONBOARDERS)
    ),
    "onboard:people": e(
        "markets whose people one manages",
        GET=rule((*MANAGERS, "other_board", "far_officer")),
        POST=rule((*MANAGERS, "other_board", "far_officer")),
    ),
    "onboard:people_market": e("the home market's people", M, GET=rule(MANAGERS), POST=rule(MANAGERS)),
    "onboard:people_invite": e("inviting to the home market", M, POST=rule(MANAGERS)),
    "onboard:people_remove": e(
        "removing a volunteer of the home market",
        {"market_id": "market", "role": "volunteer_role", "user_id": "spare_user"},
        GET=rule(MANAGERS),
        POST=rule(MANAGERS),
    ),
    "onboard:import": e("bulk import into the home market", M, GET=rule(MANAGERS), POST=rule(MANAGERS)),
    "onboard:import-province": e(
        "bulk import into the home province", {"code": "province"}, GET=rule(OVERSEERS), POST=rule(OVERSEERS)
    ),
    "onboard:import-template": e(
        "the import template (no data)", {"fmt": "fmt"}, GET=rule((*MANAGERS, "other_board", "far_officer"))
    ),
    "onboard:import-job": e("an import into the home market", {"job_id": "job"}, GET=rule(MANAGERS)),
    "onboard:import-status": e("an import into the home market", {"job_id": "job"}, GET=rule(MANAGERS)),
    "onboard:board": e("the home market's board tasks", M, GET=rule(MANAGERS)),
    "onboard:board-review": e("the home market's traders to review", M, GET=rule(MANAGERS)),
    "onboard:board-approve": e(
        "a trader under review", {"market_id": "market", "vendor_id": "pending_vendor"}, POST=rule(MANAGERS)
    ),
    "onboard:board-reject": e(
        "a trader under review", {"market_id": "market", "vendor_id": "pending_vendor"}, POST=rule(MANAGERS)
    ),
    "onboard:board-payouts": e("the home market's payout changes", M, GET=rule(MANAGERS)),
    "onboard:board-payout-approve": e(
        "a payout change in the home market", {"market_id": "market", "change_id": "change"}, POST=rule(MANAGERS)
    ),
    "onboard:board-payout-reject": e(
        "a payout change in the home market", {"market_id": "market", "change_id": "change"}, POST=rule(MANAGERS)
    ),
    "onboard:board-cards": e("the home market's cards", M, GET=rule(MANAGERS), POST=rule(MANAGERS)),
    "onboard:resubmit": e(
        "a rejected registration in the home market",
        {"market_id": "market", "vendor_id": "rejected_vendor"},
        GET=rule(ONBOARDERS),
        POST=rule(ONBOARDERS),
    ),
    # --- the stall (a trader's phone); the stream refuses the anonymous with 403 ---------------
    "stall:home": e("one's own stall", GET=STALL_PAGE),
    "stall:events": e("one's own stall's receipts (event stream)", GET=rule(STALLS, rest="403", anon="403")),
    "stall:receipts": e("one's own stall's receipts", GET=STALL_PAGE),
    "stall:ack": e(
        "a payment to the home stall",
        {"payment_id": "payment"},
        {"POST": {"device_id": "matrix-phone", "method": "speech"}},
        POST=rule(("vendor",), rest="403") | {"other_vendor": "404"},
    ),
    "stall:sale": e("a sale QR of one's own stall", GET=STALL_PAGE, POST=STALL_PAGE),
    "stall:sale-show": e(
        "a sale QR of the home stall", {"pk": "sale"}, GET=rule(("vendor",), rest="403") | {"other_vendor": "404"}
    ),
    "stall:sale-status": e(
        "a sale QR of the home stall", {"pk": "sale"}, GET=rule(("vendor",), rest="403") | {"other_vendor": "404"}
    ),
    "stall:code": e("checking a code for one's own stall", GET=STALL_PAGE, POST=STALL_PAGE),
    "stall:payments": e("one's own stall's payments", GET=STALL_PAGE),
    "stall:payments-csv": e("one's own stall's payments", GET=STALL_PAGE),
    "stall:qr-png": e("one's own stall's QR", GET=STALL_PAGE),
    "stall:qr-svg": e("one's own stall's QR", GET=STALL_PAGE),
    "stall:card-pdf": e("one's own stall's card", GET=STALL_PAGE),
    # --- API: open ---------------------------------------------------------------------------
    "auth-token": e("a token for one's own credentials", POST=OPEN),
    "province-list": e("reference data", GET=OPEN),
    "province-wards": e("reference data", {"code": "province"}, GET=OPEN),
    "bank-list": e("reference data", GET=OPEN),
    "schema": e("the OpenAPI schema", GET=OPEN),
    "docs": e("Swagger UI", GET=OPEN),
    "webhook-sepay": e("a bank credit, signed by the provider (no signature: refused 400)", POST=OPEN),
    "webhook-casso": e("a bank credit, signed by the provider", POST=OPEN),
    "webhook-payos": e("a bank credit, signed by the provider", POST=OPEN),
    "ussd": e("a USSD dialogue: only with the aggregator's secret (none sent: 401)", POST=rule(rest="login")),
}

V = {"pk": "vendor"}
VC = {"pk": "vendor", "change_id": "change"}
SALE = {"vendor_id": "vendor", "pk": "sale"}
MONEY = ("superuser", "officer", "board", "vendor")  # see the home stall's money
CLAIM_SEERS = (*ONBOARDERS, "other_board")  # the claim's market, and the board holding the account
ENTRIES |= {
    # --- API: markets ------------------------------------------------------------------------
    "market-list": e(
        "markets one sees; creating one",
        bodies={"POST": {"name": "Chợ Ma Trận", "code": "MX-NEW", "ward": "@ward"}},
        GET=ANY_SIGNED_IN,
        POST=rule(OVERSEERS, forbid=SIGNED_IN),
    ),
    "market-detail": e(
        "the home market",
        {"pk": "market"},
        {"PUT": {"name": "Chợ MX-HOME", "code": "MX-HOME", "ward": "@ward"}, "PATCH": {"stall_count": 51}},
        GET=rule(SEERS),
        PUT=rule(MANAGERS, forbid=("volunteer", "vendor")),
        PATCH=rule(MANAGERS, forbid=("volunteer", "vendor")),
    ),
    "market-invitations": e(
        "inviting a volunteer to the home market",
        {"pk": "market"},
        {"POST": {"role": "volunteer", "full_name": "Lê Văn Mới", "phone": "0912888777"}},
        POST=rule(MANAGERS, forbid=("volunteer",)),
    ),
    # --- API: vendors ------------------------------------------------------------------------
    "vendor-list": e(
        "vendors one sees; registering one in the home market",
        bodies={
            "POST": {
                "market": "@market",
                "full_name": "Phạm Thị Ma",
                "phone": "0912777666",
                "bank_bin": "970436",
                "account_number": "5559990001",
                "account_name": "PHAM THI MA",
            }
        },
        GET=ANY_SIGNED_IN,
        POST=rule(ONBOARDERS, forbid=("vendor",)),
    ),
    "vendor-me": e("one's own stall", GET=rule(STALLS)),
    "vendor-detail": e(
        "the home stall",
        V,
        {"PUT": {"full_name": "Người Bán 1"}, "PATCH": {"stall_label": "MX-1"}},
        GET=rule(SEERS),
        PUT=rule(SEERS),
        PATCH=rule(SEERS),
    ),
    "vendor-status": e(
        "a registration under review (made by the volunteer)",
        {"pk": "pending_vendor"},
        {"POST": {"status": "active"}},
        POST=rule(MANAGERS, forbid=("volunteer",)),
    ),
    "vendor-account-invitation": e("the home stall's login", V, POST=rule(ONBOARDERS)),
    "payout-change-list": e(
        "the home stall's payout changes",
        V,
        {
            "POST": {
                "bank_bin": "970436",
                "account_number": "5550777000",
                "account_name": "NGUOI BAN",
                "reason": "matrix",
            }
        },
        GET=rule(SEERS),
        POST=rule(SEERS),
    ),
    "payout-change-detail": e("a payout change of the home stall", VC, GET=rule(SEERS)),
    "payout-change-approve": e(
        "a payout change of the home stall", VC, POST=rule(MANAGERS, forbid=("volunteer", "vendor"))
    ),
    "payout-change-reject": e(
        "a payout change of the home stall",
        VC,
        {"POST": {"reason": "matrix"}},
        POST=rule(MANAGERS, forbid=("volunteer", "vendor")),
    ),
    "payout-change-cancel": e("a payout change the trader asked for", VC, POST=rule(("vendor",), forbid=ONBOARDERS)),
    "account-claim-list": e(
        "claims one sees; claiming the other stall's account for the home market",
        bodies={
            "POST": {"market": "@market", "bank_bin": "970436", "account_number": "555000000099", "method": "board"}
        },
        GET=ANY_SIGNED_IN,
        POST=rule(ONBOARDERS, forbid=("vendor",)),
    ),
    "account-claim-detail": e(
        "a claim for the home market on the other stall's account", {"pk": "claim"}, GET=rule(CLAIM_SEERS)
    ),
    "account-claim-confirm": e(
        "the claim's SMS code",
        {"pk": "claim"},
        {"POST": {"code": "000000"}},
        POST=rule(ONBOARDERS, forbid=("other_board",)),
    ),
    "account-claim-approve": e(
        "the claim: decided by the board holding the account",
        {"pk": "claim"},
        POST=rule(("superuser", "officer", "other_board"), forbid=("board", "volunteer")),
    ),
    "account-claim-reject": e(
        "the claim: decided by the board holding the account",
        {"pk": "claim"},
        POST=rule(("superuser", "officer", "other_board"), forbid=("board", "volunteer")),
    ),
    # --- API: cards and QR (volunteers print cards; they see no money) -------------------------
    "vietqr-decode": e("a tool, no data", POST=ANY_SIGNED_IN),
    "vietqr-encode": e("a tool, no data", POST=ANY_SIGNED_IN),
    "vendor-qr-png": e("the home stall's QR", V, GET=rule(SEERS)),
    "vendor-qr-svg": e("the home stall's QR", V, GET=rule(SEERS)),
    "vendor-card-pdf": e("the home stall's card", V, GET=rule(SEERS)),
    "market-cards-pdf": e("the home market's cards", {"pk": "market"}, GET=rule(ONBOARDERS, forbid=("vendor",))),
    "market-cards-job": e(
        "a card batch of the home market", {"pk": "market", "job_id": "batch"}, GET=rule(ONBOARDERS, forbid=("vendor",))
    ),
    "market-cards-job-download": e(
        "a card batch of the home market (its file purged: 410)",
        {"pk": "market", "job_id": "batch"},
        GET=rule(ONBOARDERS, forbid=("vendor",)),
    ),
    # --- API: sale QRs -------------------------------------------------------------------------
    "payment-request-list": e("sale QRs one sees", GET=ANY_SIGNED_IN),
    "vendor-payment-request-list": e(
        "the home stall's sale QRs",
        {"vendor_id": "vendor"},
        {"POST": {"amount": 50000}},
        GET=rule(MONEY, forbid=("volunteer",)),
        POST=rule(MONEY, forbid=("volunteer",)),
    ),
    "payment-request-detail": e("a sale QR of the home stall", SALE, GET=rule(MONEY, forbid=("volunteer",))),
    "payment-request-cancel": e("a sale QR of the home stall", SALE, POST=rule(MONEY, forbid=("volunteer",))),
    "payment-request-qr-png": e("a sale QR of the home stall", SALE, GET=rule(MONEY, forbid=("volunteer",))),
    # --- API: codes, offline ---------------------------------------------------------------------
    "offline-confirmation-list": e("offline confirmations one sees", GET=ANY_SIGNED_IN),
    "payment-confirm": e(
        "a customer's code, for one's own stall (named in the body)",
        {},
        {"POST": {"merchant_code": "@merchant_code", "code": "000000", "amount": 50000}},
        POST=rule(("vendor",)),
    ),
    "payment-offline-sync": e("offline checks of one's own stall", POST=ANY_SIGNED_IN),
    "vendor-offline-key": e("one's own stall's offline key", query="device_id=matrix-phone", GET=rule(STALLS)),
    "vendor-offline-key-rotate": e("the home stall's offline key", V, POST=rule(MONEY, forbid=("volunteer",))),
    # --- API: the ledger (volunteers see no money: hidden) ----------------------------------------
    "payment-list": e("payments one sees", GET=ANY_SIGNED_IN),
    "payment-export-csv": e("payments one sees", GET=ANY_SIGNED_IN),
    "payment-summary": e("payments one sees", GET=ANY_SIGNED_IN),
    "payment-unmatched": e("unmatched credits one sees", GET=ANY_SIGNED_IN),
    "payment-detail": e("a payment to the home stall", {"pk": "payment"}, GET=rule(MONEY)),
    "payment-assign": e(
        "an unmatched credit of the home market",
        {"pk": "unmatched_payment"},
        {"POST": {"vendor": "@vendor"}},
        POST=rule(MANAGERS),
    ),
    "payment-refund": e("a payment to the home stall", {"pk": "payment"}, POST=rule(MANAGERS, forbid=("vendor",))),
    "payment-dispute": e("a payment to the home stall", {"pk": "payment"}, POST=rule(MANAGERS, forbid=("vendor",))),
    "payment-resolve": e(
        "a payment to the home stall (not disputed: 409)", {"pk": "payment"}, POST=rule(MANAGERS, forbid=("vendor",))
    ),
    "payment-reassign": e(
        "a payment to the home stall",
        {"pk": "payment"},
        {"POST": {"vendor": "@rejected_vendor"}},
        POST=rule(MANAGERS, forbid=("vendor",)),
    ),
    # --- API: statistics --------------------------------------------------------------------------
    "stats-home": e("one's own statistics scope", GET=rule((*MANAGERS, "other_board", "far_officer"))),
    "stats-province": e("the home province", {"code": "province"}, GET=rule(OVERSEERS)),
    "stats-province-target": e("the home province's target", {"code": "province"}, PUT=rule(OVERSEERS)),
    "stats-ward": e("the home market's ward", {"code": "ward"}, GET=rule(OVERSEERS)),
    "stats-market": e("the home market", M, GET=rule(MANAGERS)),
    "stats-market-target": e("the home market's target", M, PUT=rule(MANAGERS)),
    "stats-volunteers": e(
        "volunteers of one's scope", GET=rule((*ONBOARDERS, "other_board", "other_volunteer", "far_officer"))
    ),
}
