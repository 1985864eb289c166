"""Tokens, access keys and whoami through the SDK against the in-process server."""

from __future__ import annotations

import pytest

from lakeworks.core.errors import AccessDenied, NotFound, Unauthenticated, ValidationError
from lakeworks.sdk.client import Client
from lakeworks.testing import InProcessServer


def test_whoami_is_the_admin(client: Client) -> None:
    me = client.whoami()
    assert me.principal == "admin"
    assert set(me.scopes) == {"read", "write", "admin"}
    assert me.arn.endswith(":user/admin")


def test_health(client: Client) -> None:
    assert client.health()["status"] == "ok"


def test_token_lifecycle(server: InProcessServer, client: Client) -> None:
    created = client.tokens.create("alice", ["read"], description="sdk test")
    assert created.token, "the create response carries the secret"
    assert created.principal == "alice"

    listed = {t.token_id: t for t in client.tokens.list(principal="alice")}
    assert created.token_id in listed
    assert listed[created.token_id].token is None, "lists never include secrets"

    as_alice = Client(http=server.client, token=created.token)
    assert as_alice.whoami().principal == "alice"
    with pytest.raises(AccessDenied) as denied:
        as_alice.tokens.create("mallory")
    assert denied.value.status == 403
    assert "admin" in denied.value.message

    revoked = client.tokens.revoke(created.token_id)
    assert revoked.revoked_at is not None
    with pytest.raises(Unauthenticated) as unauthenticated:
        as_alice.whoami()
    assert unauthenticated.value.status == 401


def test_revoking_an_unknown_token_is_not_found(client: Client) -> None:
    with pytest.raises(NotFound) as caught:
        client.tokens.revoke("no-such-token")
    error = caught.value
    assert error.status == 404
    assert "no-such-token" in error.message
    assert error.request_id  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"principal": "has space"}, "principal"),
        ({"scopes": ["root"]}, "scopes"),
        ({"scopes": []}, "scopes"),
        ({"expires_in_seconds": 0}, "expires_in_seconds"),
    ],
)
def test_bad_token_requests_are_refused_and_create_nothing(
    client: Client, kwargs: dict[str, object], field: str
) -> None:
    before = [t.token_id for t in client.tokens.list()]
    with pytest.raises(ValidationError) as caught:
        client.tokens.create(**kwargs)  # type: ignore[arg-type]
    assert field in caught.value.message
    assert caught.value.details["errors"]
    assert [t.token_id for t in client.tokens.list()] == before


def test_access_key_lifecycle(client: Client) -> None:
    created = client.access_keys.create("bob", ["write"], description="for boto3")
    assert created.secret_access_key
    assert set(created.scopes) >= {"write"}

    listed = {k.access_key_id: k for k in client.access_keys.list("bob")}
    assert listed[created.access_key_id].secret_access_key is None

    revoked = client.access_keys.revoke(created.access_key_id)
    assert revoked.revoked_at is not None
    with pytest.raises(NotFound):
        client.access_keys.revoke("AKIANOSUCHKEY0000000")


def test_aws_env_comes_from_the_local_credentials(server: InProcessServer, client: Client) -> None:
    env = client.aws_env()
    assert env is not None
    assert env["AWS_ENDPOINT_URL"] == client.url
    assert env["AWS_ACCESS_KEY_ID"] == server.credentials["access_key_id"]
    assert env["AWS_SECRET_ACCESS_KEY"] == server.credentials["secret_access_key"]
    assert env["AWS_DEFAULT_REGION"] == "us-east-1"


def test_aws_env_is_none_without_local_credentials(server: InProcessServer) -> None:
    assert Client(http=server.client).aws_env() is None
