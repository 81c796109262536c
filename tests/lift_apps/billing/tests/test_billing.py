import uuid

from billing_app.app import app
from fastapi.testclient import TestClient


def test_rates_need_a_token_and_are_loaded_at_start() -> None:
    with TestClient(app) as client:
        assert client.get("/v2/rates").status_code == 401
        token = client.post(f"/v2/auth/jwt/login?user_id={uuid.uuid4()}").json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        assert client.get("/v2/rates", headers=headers).json() == {
            "EUR": 1.0,
            "USD": 1.08,
        }
