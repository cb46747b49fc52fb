"""POST /api/v1/vietqr/decode/ and /encode/: the codec over HTTP."""

from __future__ import annotations

import pytest

from chopay.vietqr import ERROR_CODES
from tests.conftest import client_for

DECODE = "/api/v1/vietqr/decode/"
ENCODE = "/api/v1/vietqr/encode/"

# NAPAS spec §6.1.2 and §6.1.3.
STATIC_CARD = "00020101021138600010A00000072701300006970403011697040311012345670208QRIBFTTC53037045802VN63044F52"
DYNAMIC_ACCOUNT = (
    "00020101021238570010A00000072701270006970403011300110123456780208QRIBFTTA530370454061800005802VN"
    "62340107NPS68690819thanh toan don hang63042E2E"
)


@pytest.fixture
def user(db):
    from tests.factories import UserFactory

    return UserFactory(username="anyone")


def decode(user, payload):
    return client_for(user).post(DECODE, {"payload": payload}, format="json")


def encode(user, **body):
    return client_for(user).post(ENCODE, body, format="json")


# --- decode -------------------------------------------------------------------------


def test_it_decodes_the_napas_dynamic_sample(user):
    response = decode(user, DYNAMIC_ACCOUNT)
    assert response.status_code == 200, response.content
    assert response.json() == {
        "initiation": "dynamic",
        "bank_bin": "970403",
        "bank_short_name": "Sacombank",
        "account_number": "0011012345678",
        "service_code": "QRIBFTTA",
        "amount": 180000,
        "currency": "704",
        "country": "VN",
        "bill_number": "NPS6869",
        "mobile_number": None,
        "store_label": None,
        "reference_label": None,
        "terminal_label": None,
        "purpose": "thanh toan don hang",
        "mcc": None,
        "merchant_name": None,
        "merchant_city": None,
        "warnings": [],
    }


def test_it_decodes_the_napas_static_card_sample_with_absent_fields_null(user):
    body = decode(user, STATIC_CARD).json()
    assert body["initiation"] == "static"
    assert body["service_code"] == "QRIBFTTC"
    assert body["account_number"] == "9704031101234567"
    assert body["amount"] is None and body["purpose"] is None and body["bill_number"] is None


def test_it_reports_an_unknown_bank_as_a_null_short_name(user):
    response = encode(user, bank_bin="970436", account_number="0123456789")
    payload = response.json()["payload"].replace("970436", "999999")
    # Re-sign the edited payload so that only the BIN differs.
    from chopay.vietqr import crc16_ccitt_false

    body = payload[:-4]
    payload = body + f"{crc16_ccitt_false(body.encode()):04X}"
    decoded = decode(user, payload).json()
    assert decoded["bank_bin"] == "999999"
    assert decoded["bank_short_name"] is None


def test_it_lists_tolerated_quirks_as_warnings(user):
    lowercase_crc = DYNAMIC_ACCOUNT[:-4] + DYNAMIC_ACCOUNT[-4:].lower()
    body = decode(user, lowercase_crc).json()
    assert body["warnings"] == ["crc_lowercase"]


@pytest.mark.parametrize(
    ("payload", "code"),
    [
        (DYNAMIC_ACCOUNT[:-1] + "F", "crc_mismatch"),
        (DYNAMIC_ACCOUNT.replace("54061800005802", "54061900005802"), "crc_mismatch"),
        ("hello", "malformed_tlv"),
        (DYNAMIC_ACCOUNT + " ", "malformed_tlv"),
        (" " + DYNAMIC_ACCOUNT, "malformed_tlv"),
        (
            "00020101021226360014br.gov.bcb.pix0114+5561912345675204000053039865802BR5913FULANO DE TAL"
            "6008BRASILIA62070503***6304",
            None,
        ),
    ],
)
def test_it_refuses_an_invalid_payload_with_the_codec_error_code(user, payload, code):
    response = decode(user, payload)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] in ERROR_CODES
    if code is not None:
        assert error["code"] == code
    assert error["message"]


def test_it_refuses_a_missing_or_overlong_payload(user):
    assert decode(user, "").json()["error"]["code"] == "blank"
    response = client_for(user).post(DECODE, {}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "required"
    assert decode(user, "0" * 600).json()["error"]["code"] == "max_length"


def test_it_requires_authentication(api, db):
    assert api.post(DECODE, {"payload": DYNAMIC_ACCOUNT}, format="json").status_code == 401
    assert api.post(ENCODE, {"bank_bin": "970403", "account_number": "1"}, format="json").status_code == 401


# --- encode -------------------------------------------------------------------------


def test_it_reproduces_the_napas_dynamic_sample_byte_for_byte(user):
    response = encode(
        user,
        bank_bin="970403",
        account_number="0011012345678",
        amount=180000,
        bill_number="NPS6869",
        purpose="thanh toan don hang",
    )
    assert response.status_code == 200, response.content
    assert response.json() == {"payload": DYNAMIC_ACCOUNT}


def test_it_makes_a_static_code_without_an_amount(user):
    payload = encode(user, bank_bin="970436", account_number="0123456789").json()["payload"]
    body = decode(user, payload).json()
    assert body["initiation"] == "static"
    assert body["amount"] is None
    assert body["service_code"] == "QRIBFTTA"  # the default
    assert body["bank_short_name"] == "Vietcombank"


def test_it_makes_a_dynamic_code_with_an_amount_given_as_digits(user):
    payload = encode(user, bank_bin="970422", account_number="0987654321", amount="250000").json()["payload"]
    body = decode(user, payload).json()
    assert (body["initiation"], body["amount"]) == ("dynamic", 250000)


def test_it_folds_vietnamese_text_to_ascii(user):
    payload = encode(
        user, bank_bin="970436", account_number="0123456789", amount=30000, purpose="Thanh toán đơn hàng"
    ).json()["payload"]
    assert decode(user, payload).json()["purpose"] == "Thanh toan don hang"


@pytest.mark.parametrize("amount", [180000.0, "180000.0", "1000.5", 12.5, -5, 0, "-5", True, 10**13, "1e5", "", " 5"])
def test_it_refuses_an_amount_that_is_not_whole_dong(user, amount):
    response = encode(user, bank_bin="970403", account_number="0011012345678", amount=amount)
    assert response.status_code == 400, amount
    assert response.json()["error"]["code"] == "invalid_amount"
    assert "amount" in response.json()["error"]["fields"]


def test_it_accepts_the_largest_13_digit_amount(user):
    payload = encode(user, bank_bin="970403", account_number="0011012345678", amount=9_999_999_999_999).json()[
        "payload"
    ]
    assert decode(user, payload).json()["amount"] == 9_999_999_999_999


def test_it_refuses_an_overlong_purpose_instead_of_cutting_it(user):
    response = encode(user, bank_bin="970403", account_number="0011012345678", purpose="x" * 26)
    assert response.status_code == 400
    assert response.json()["error"] == {
        "code": "field_too_long",
        "message": response.json()["error"]["message"],
        "field": "purpose",
    }


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"bank_bin": "97040", "account_number": "0011012345678"}, "invalid_field"),
        ({"bank_bin": "970403", "account_number": "0011-0123"}, "invalid_field"),
        ({"bank_bin": "970403", "account_number": "1" * 20}, "field_too_long"),
        ({"bank_bin": "970403", "account_number": "0011012345678", "service_code": "QRXYZ"}, "invalid_field"),
        ({"bank_bin": "999999", "account_number": "0011012345678"}, "unknown_bank"),
    ],
)
def test_it_refuses_what_cannot_be_paid(user, body, code):
    response = encode(user, **body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == code
