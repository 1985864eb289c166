"""The verified-credential cache: fresh entries only, expiry checked, revocations at once."""

from __future__ import annotations

from datetime import timedelta

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext
from lakeworks.iam.cache import CredentialCache, Verified
from lakeworks.iam.store import CredentialRecord
from lakeworks.schemas.iam import TokenCreate
from lakeworks.testing import InProcessServer


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_live_for_the_ttl_and_their_credential_expiry() -> None:
    clock = FakeClock()
    cache = CredentialCache(2.0, clock)
    cache.put("a", Verified("p", frozenset({"read"}), None))
    cache.put("b", Verified("p", frozenset({"read"}), utcnow() - timedelta(seconds=1)))
    assert cache.get("a") is not None
    assert cache.get("b") is None  # its credential expired
    clock.now += 2.0
    assert cache.get("a") is None
    disabled = CredentialCache(0.0, clock)
    disabled.put("a", Verified("p", frozenset(), None))
    assert disabled.get("a") is None


def test_revoking_through_the_service_applies_at_once(server: InProcessServer) -> None:
    iam = server.platform.iam
    info = iam.create_token(RequestContext.system(), TokenCreate(principal="cached"))
    assert info.token is not None
    first = iam.authenticate_token(info.token)
    second = iam.authenticate_token(info.token)  # from the cache: a fresh request id each time
    assert (first.principal, second.principal) == ("cached", "cached")
    assert first.request_id != second.request_id
    response = server.client.delete(f"/api/v1/tokens/{info.token_id}")
    assert response.status_code == 200
    refused = server.client.get("/api/v1/whoami", headers={"Authorization": f"Bearer {info.token}"})
    assert refused.status_code == 401


def test_a_revocation_by_another_server_applies_within_the_ttl(server: InProcessServer) -> None:
    iam = server.platform.iam
    clock = FakeClock()
    iam.verified = CredentialCache(2.0, clock)
    info = iam.create_token(RequestContext.system(), TokenCreate(principal="elsewhere"))
    assert info.token is not None
    iam.authenticate_token(info.token)
    with server.platform.db.session() as session:  # as another server on the same database
        record = session.get(CredentialRecord, info.token_id)
        assert record is not None
        record.revoked_at = utcnow()
    assert iam.authenticate_token(info.token).principal == "elsewhere"  # still trusted
    clock.now += 2.0
    headers = {"Authorization": f"Bearer {info.token}"}
    assert server.client.get("/api/v1/whoami", headers=headers).status_code == 401
