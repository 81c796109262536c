from fastapi.testclient import TestClient
from shop_app.app import app


def test_a_sold_out_product_is_a_conflict_for_a_signed_in_user() -> None:
    with TestClient(app) as client:
        assert client.post("/shop/products/1/buy").status_code == 401
        client.post("/shop/login", json={"user_id": 3, "password": "x"})
        response = client.post("/shop/products/1/buy")
    assert response.status_code == 409
    assert response.json() == {"detail": "kettle is sold out"}
    assert "Server-Timing" in response.headers


def test_the_catalogue_is_listed() -> None:
    with TestClient(app) as client:
        products = client.get("/shop/products").json()
    assert [product["name"] for product in products] == ["kettle"]
