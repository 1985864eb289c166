"""Every registered route and method refuses a request without credentials."""

from __future__ import annotations

import re

import pytest

from lakeworks.server.rest import ROUTERS
from lakeworks.server.rest.system import PUBLIC_ROUTES
from lakeworks.testing import InProcessServer

_PARAM = re.compile(r"\{[^}]+\}")


def _routes() -> list[tuple[str, str]]:
    """Every (method, path) of every router the app mounts."""
    found = []
    for route in (route for router in ROUTERS for route in router.routes):
        methods = getattr(route, "methods", None) or set()
        for method in sorted(methods):
            if method == "HEAD" and "GET" in methods:
                continue
            found.append((method, route.path))
    return found


def test_every_native_route_needs_credentials(server: InProcessServer) -> None:
    routes = _routes()
    assert len(routes) >= 8, routes
    assert ("GET", "/openapi.json") in routes
    open_routes = []
    for method, path in routes:
        if (method, path) in PUBLIC_ROUTES:
            continue
        url = _PARAM.sub("x1", path)
        for headers in (
            {},
            {"Authorization": "Bearer lwt_bogus_token"},
            {"Authorization": "Basic eDp5"},
        ):
            response = server.client.request(
                method, url, headers={**headers, "Authorization": headers.get("Authorization", "")}
            )
            if response.status_code != 401:
                open_routes.append((method, path, headers, response.status_code))
    assert not open_routes, f"routes answering without valid credentials: {open_routes}"


def test_docs_pages_need_no_secrets_but_health_reveals_only_version(
    server: InProcessServer,
) -> None:
    response = server.client.get("/healthz", headers={"Authorization": ""})
    assert response.status_code == 200
    assert set(response.json()) == {"status", "version"}


@pytest.mark.parametrize("method", ["GET", "PUT", "POST", "DELETE", "HEAD"])
def test_aws_front_door_refuses_unsigned_requests(server: InProcessServer, method: str) -> None:
    response = server.client.request(method, "/some-bucket/some-key", headers={"Authorization": ""})
    assert response.status_code == 403
