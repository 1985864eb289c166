"""``lakeworks tokens``, ``lakeworks access-keys`` and ``lakeworks whoami``.

A created token or key pair shows its secret once, in the create command's output; lists never
include secrets.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING, Annotated

import typer

from lakeworks.cli.output import Column, OutputFormat, OutputOption, emit_record, emit_rows
from lakeworks.cli.server import connect

if TYPE_CHECKING:
    from lakeworks.schemas.iam import Scope

__all__ = ["access_keys_app", "tokens_app", "whoami"]

tokens_app = typer.Typer(help="Bearer tokens for the REST API, SDK and CLI.", no_args_is_help=True)
access_keys_app = typer.Typer(
    help="Access-key pairs for boto3 and the aws CLI (the AWS front door).", no_args_is_help=True
)


class ScopeChoice(StrEnum):
    """Scopes, weakest first; each implies the ones before it."""

    read = "read"
    write = "write"
    admin = "admin"


PrincipalOption = Annotated[
    str, typer.Option(help="Principal the credential acts as (created if new).")
]
ScopesOption = Annotated[
    list[ScopeChoice] | None,
    typer.Option("--scope", help="Scope to grant; repeat for several (default: admin)."),
]
DescriptionOption = Annotated[str, typer.Option(help="What the credential is for.")]
ExpiresOption = Annotated[
    int | None, typer.Option("--expires-in", min=1, help="Lifetime in seconds (default: none).")
]
FilterOption = Annotated[str | None, typer.Option(help="Only this principal's credentials.")]

_TOKEN_COLUMNS: list[Column] = [
    ("ID", "token_id"),
    ("PRINCIPAL", "principal"),
    ("SCOPES", "scopes"),
    ("DESCRIPTION", "description"),
    ("CREATED", "created_at"),
    ("EXPIRES", "expires_at"),
    ("REVOKED", "revoked_at"),
]
_KEY_COLUMNS: list[Column] = [
    ("ACCESS KEY ID", "access_key_id"),
    *_TOKEN_COLUMNS[1:],
]


def _scopes(scopes: list[ScopeChoice] | None) -> list[Scope]:
    return [s.value for s in scopes] if scopes else ["admin"]


@tokens_app.command("create")
def create_token(
    principal: PrincipalOption = "admin",
    scope: ScopesOption = None,
    description: DescriptionOption = "",
    expires_in: ExpiresOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Create a token; its secret is printed once, here."""
    with connect() as client:
        info = client.tokens.create(
            principal, _scopes(scope), description=description, expires_in_seconds=expires_in
        )
    emit_record(info, output)


@tokens_app.command("list")
def list_tokens(principal: FilterOption = None, output: OutputOption = OutputFormat.table) -> None:
    """List tokens (without secrets)."""
    with connect() as client:
        emit_rows(list(client.tokens.list(principal)), _TOKEN_COLUMNS, output)


@tokens_app.command("revoke")
def revoke_token(
    token_id: Annotated[str, typer.Argument(help="The token's id (see 'tokens list').")],
    output: OutputOption = OutputFormat.table,
) -> None:
    """Revoke a token; requests with it fail from now on."""
    with connect() as client:
        emit_record(client.tokens.revoke(token_id), output)


@access_keys_app.command("create")
def create_access_key(
    principal: PrincipalOption = "admin",
    scope: ScopesOption = None,
    description: DescriptionOption = "",
    expires_in: ExpiresOption = None,
    output: OutputOption = OutputFormat.table,
) -> None:
    """Create an access-key pair; the secret is printed once, here."""
    with connect() as client:
        info = client.access_keys.create(
            principal, _scopes(scope), description=description, expires_in_seconds=expires_in
        )
    emit_record(info, output)


@access_keys_app.command("list")
def list_access_keys(
    principal: FilterOption = None, output: OutputOption = OutputFormat.table
) -> None:
    """List access keys (without secrets)."""
    with connect() as client:
        emit_rows(list(client.access_keys.list(principal)), _KEY_COLUMNS, output)


@access_keys_app.command("revoke")
def revoke_access_key(
    access_key_id: Annotated[str, typer.Argument(help="The key's id (see 'access-keys list').")],
    output: OutputOption = OutputFormat.table,
) -> None:
    """Revoke an access key."""
    with connect() as client:
        emit_record(client.access_keys.revoke(access_key_id), output)


def whoami(output: OutputOption = OutputFormat.table) -> None:
    """Show who the CLI acts as: principal, scopes, ARN."""
    with connect() as client:
        emit_record(client.whoami(), output)
