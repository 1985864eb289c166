"""Tables of the iam domain; nothing outside this module touches them."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lakeworks.db import Base

__all__ = ["CredentialRecord", "PrincipalRecord"]


class PrincipalRecord(Base):
    """A user, service or job that holds credentials."""

    __tablename__ = "iam_principals"

    name: Mapped[str] = mapped_column(String(128), primary_key=True)
    scopes: Mapped[list[Any]]
    description: Mapped[str] = mapped_column(String(1024), default="")
    created_at: Mapped[datetime]


class CredentialRecord(Base):
    """A bearer token (``kind='token'``) or an access-key pair (``kind='access_key'``).

    Token secrets are stored as SHA-256 hashes; access-key secrets are needed to verify SigV4
    signatures, so they are stored encrypted with the server's master key.
    """

    __tablename__ = "iam_credentials"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    principal: Mapped[str] = mapped_column(
        ForeignKey("iam_principals.name", ondelete="CASCADE"), index=True
    )
    secret_hash: Mapped[str | None] = mapped_column(String(128), unique=True)
    secret_encrypted: Mapped[str | None] = mapped_column(String(512))
    description: Mapped[str] = mapped_column(String(1024), default="")
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


def get_principal(session: Session, name: str) -> PrincipalRecord | None:
    """Return the principal named ``name``, if any."""
    return session.get(PrincipalRecord, name)


def get_credential(session: Session, credential_id: str) -> CredentialRecord | None:
    """Return the credential with id ``credential_id`` (an access key id or token id)."""
    return session.get(CredentialRecord, credential_id)


def find_token(session: Session, secret_hash: str) -> CredentialRecord | None:
    """Return the token whose secret hashes to ``secret_hash``."""
    return session.scalars(
        select(CredentialRecord).where(
            CredentialRecord.secret_hash == secret_hash, CredentialRecord.kind == "token"
        )
    ).first()


def list_credentials(session: Session, kind: str, principal: str | None) -> list[CredentialRecord]:
    """List credentials of one kind, optionally of one principal, oldest first."""
    query = select(CredentialRecord).where(CredentialRecord.kind == kind)
    if principal is not None:
        query = query.where(CredentialRecord.principal == principal)
    return list(session.scalars(query.order_by(CredentialRecord.created_at)))
