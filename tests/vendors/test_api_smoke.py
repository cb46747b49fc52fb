from tests.conftest import client_for


def test_it_lists_own_market_vendors_for_board(cast):
    r = client_for(cast.board).get("/api/v1/vendors/")
    assert r.status_code == 200, r.content
    ids = [v["id"] for v in r.json()["results"]]
    assert ids == [cast.vendor.id]


def test_it_creates_vendor_as_volunteer(cast):
    r = client_for(cast.volunteer).post(
        "/api/v1/vendors/",
        {"market": cast.market.id, "full_name": "Lê Văn Tám", "phone": "0987 654 321", "bank_bin": "970422",
         "account_number": "0987654321", "account_name": "Lê Văn Tám"},
        format="json",
    )
    assert r.status_code == 201, r.content
    body = r.json()
    assert body["phone"] == "+84987654321"
    assert body["account_name"] == "LE VAN TAM"
    assert len(body["merchant_code"]) == 8
