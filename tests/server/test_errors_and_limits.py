from __future__ import annotations

from lakeworks.testing import InProcessServer


def test_unknown_route_is_a_native_404(server: InProcessServer) -> None:
    response = server.client.get("/api/v1/no-such-thing")
    assert response.status_code == 404
    assert response.json()["error"]["type"] == "NotFound"


def test_wrong_content_type_is_400(server: InProcessServer) -> None:
    response = server.client.post(
        "/api/v1/tokens", content=b"principal=x", headers={"Content-Type": "text/plain"}
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "ValidationException"


def test_malformed_json_is_400(server: InProcessServer) -> None:
    response = server.client.post(
        "/api/v1/tokens", content=b"{not json", headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 400


def test_oversized_body_is_413_and_nothing_is_created(server: InProcessServer) -> None:
    limit = server.settings.server.max_body_bytes
    big = b'{"description": "' + b"x" * (limit + 10) + b'"}'
    response = server.client.post(
        "/api/v1/tokens", content=big, headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "EntityTooLarge"
    assert len(server.client.get("/api/v1/tokens").json()["items"]) == 1


def test_oversized_chunked_body_is_413(server: InProcessServer) -> None:
    limit = server.settings.server.max_body_bytes

    def chunks():  # type: ignore[no-untyped-def]
        yield b'{"description": "'
        for _ in range(limit // 65536 + 2):
            yield b"x" * 65536
        yield b'"}'

    response = server.client.post(
        "/api/v1/tokens", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413


def test_openapi_is_served_to_authenticated_callers(server: InProcessServer) -> None:
    spec = server.client.get("/openapi.json").json()
    assert "/api/v1/tokens" in spec["paths"]
    assert server.client.get("/openapi.json", headers={"Authorization": ""}).status_code == 401
