import httpx
from fastapi import FastAPI


async def test_health_answers_while_alive(client: httpx.AsyncClient) -> None:
    response = await client.get("/health")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_ready_checks_the_database(client: httpx.AsyncClient) -> None:
    response = await client.get("/health/ready")

    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


async def test_every_response_carries_a_request_id(client: httpx.AsyncClient) -> None:
    generated = await client.get("/health")
    echoed = await client.get("/health", headers={"X-Request-ID": "req-1234567890"})
    refused = await client.get("/health", headers={"X-Request-ID": "<script>"})

    assert len(generated.headers["X-Request-ID"]) == 32
    assert echoed.headers["X-Request-ID"] == "req-1234567890"
    assert refused.headers["X-Request-ID"] != "<script>"


async def test_unknown_route_is_a_json_404(client: httpx.AsyncClient) -> None:
    response = await client.get("/nowhere")

    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


async def test_ready_says_when_every_place_is_taken(
    app: FastAPI, client: httpx.AsyncClient
) -> None:
    workload = app.state.workload
    workload.in_progress = workload.limit

    saturated = await client.get("/health/ready")
    alive = await client.get("/health")
    workload.in_progress = workload.limit - 1
    again = await client.get("/health/ready")

    assert saturated.status_code == 503
    assert saturated.json() == {"status": "saturated"}
    assert alive.status_code == 200
    assert again.status_code == 200
