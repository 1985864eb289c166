"""The same server on PostgreSQL metadata: first start, credentials, restart."""

from __future__ import annotations

from pathlib import Path

import pytest

from lakeworks.testing import temporary_server

pytestmark = pytest.mark.postgres


def test_server_runs_on_postgres(tmp_path: Path, postgres_url: str) -> None:
    with temporary_server(tmp_path / "a", database={"url": postgres_url}) as server:
        assert server.client.get("/api/v1/whoami").json()["principal"] == "admin"
        token = server.client.post("/api/v1/tokens", json={"principal": "pg-user"}).json()
    # a second server on the same database (another home) sees the same principals
    with temporary_server(
        tmp_path / "b",
        database={"url": postgres_url},
        auth={"master_key": (tmp_path / "a" / "master.key").read_text().strip()},
    ) as other:
        me = other.client.get(
            "/api/v1/whoami", headers={"Authorization": f"Bearer {token['token']}"}
        )
        assert me.json()["principal"] == "pg-user"
