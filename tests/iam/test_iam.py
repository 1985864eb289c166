from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from lakeworks.testing import InProcessServer, temporary_server


def test_first_start_writes_admin_credentials_0600(server: InProcessServer) -> None:
    path = server.settings.home / "credentials.json"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    creds = json.loads(path.read_text())
    assert set(creds) == {"principal", "token", "access_key_id", "secret_access_key"}
    assert creds["access_key_id"].startswith("AKIA")
    assert stat.S_IMODE((server.settings.home / "master.key").stat().st_mode) == 0o600


def test_restart_keeps_credentials(tmp_path: Path) -> None:
    with temporary_server(tmp_path) as first:
        token = first.token
    with temporary_server(tmp_path) as second:
        assert second.token == token
        assert second.client.get("/api/v1/whoami").json()["principal"] == "admin"


def test_token_lifecycle_and_scopes(server: InProcessServer) -> None:
    created = server.client.post(
        "/api/v1/tokens", json={"principal": "reader", "scopes": ["read"], "description": "ci"}
    )
    assert created.status_code == 201
    body = created.json()
    token = body["token"]
    assert body["scopes"] == ["read"]
    me = server.client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    assert me.json()["scopes"] == ["read"]
    # a read-scoped principal may not mint tokens
    denied = server.client.post(
        "/api/v1/tokens", json={}, headers={"Authorization": f"Bearer {token}"}
    )
    assert denied.status_code == 403
    assert denied.json()["error"]["code"] == "AccessDeniedException"
    listed = server.client.get("/api/v1/tokens", params={"principal": "reader"}).json()["items"]
    assert [t["token_id"] for t in listed] == [body["token_id"]]
    assert all(t["token"] is None for t in listed)  # secrets are never listed
    revoked = server.client.delete(f"/api/v1/tokens/{body['token_id']}")
    assert revoked.json()["revoked_at"] is not None
    after = server.client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {token}"})
    assert after.status_code == 401
    assert "revoked" in after.json()["error"]["message"]


def test_expired_token_is_refused(server: InProcessServer) -> None:
    platform = server.platform
    from lakeworks.core.context import RequestContext
    from lakeworks.schemas.iam import TokenCreate

    info = platform.iam.create_token(
        RequestContext.system(), TokenCreate(principal="tmp", expires_in_seconds=1)
    )
    with platform.db.session() as session:
        from datetime import timedelta

        from lakeworks.iam.store import CredentialRecord

        record = session.get(CredentialRecord, info.token_id)
        record.expires_at = record.created_at - timedelta(seconds=1)
    response = server.client.get(
        "/api/v1/whoami", headers={"Authorization": f"Bearer {info.token}"}
    )
    assert response.status_code == 401
    assert "expired" in response.json()["error"]["message"]


def test_access_keys(server: InProcessServer) -> None:
    created = server.client.post(
        "/api/v1/access-keys", json={"principal": "etl", "scopes": ["write"]}
    )
    assert created.status_code == 201
    key = created.json()
    assert len(key["secret_access_key"]) == 40
    listed = server.client.get("/api/v1/access-keys").json()["items"]
    assert key["access_key_id"] in {k["access_key_id"] for k in listed}
    assert all(k["secret_access_key"] is None for k in listed)
    assert server.client.delete(f"/api/v1/access-keys/{key['access_key_id']}").status_code == 200
    missing = server.client.delete("/api/v1/access-keys/AKIANOPE")
    assert missing.status_code == 404
    assert missing.json()["error"]["type"] == "NotFound"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"scopes": ["root"]}, "scopes"),
        ({"scopes": []}, "scopes"),
        ({"principal": "bad name!"}, "principal"),
        ({"expires_in_seconds": 0}, "expires_in_seconds"),
        ({"colour": "red"}, "colour"),
    ],
)
def test_bad_token_requests(server: InProcessServer, body: dict[str, object], field: str) -> None:
    response = server.client.post("/api/v1/tokens", json=body)
    assert response.status_code == 400
    error = response.json()["error"]
    assert error["code"] == "ValidationException"
    assert field in error["message"]
