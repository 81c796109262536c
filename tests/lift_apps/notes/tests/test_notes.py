from fastapi.testclient import TestClient
from notes_app.app import app


def test_a_user_reads_back_their_notes() -> None:
    with TestClient(app) as client:
        token = client.post("/api/v1/token", json={"user_id": 5, "password": "x"}).json()
        headers = {"Authorization": f"Bearer {token['access_token']}"}
        assert client.post("/api/v1/notes?text=hello", headers=headers).status_code == 201
        notes = client.get("/api/v1/notes", headers=headers).json()
    assert [note["text"] for note in notes] == ["hello"]


def test_a_forged_token_is_refused() -> None:
    with TestClient(app) as client:
        response = client.get("/api/v1/notes", headers={"Authorization": "Bearer x.y.z"})
    assert response.status_code == 401
