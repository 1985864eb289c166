"""Operations on principals and credentials; every adapter calls these.

A principal holds scopes (read ⊂ write ⊂ admin). Its credentials are bearer tokens for the native
API and access-key pairs for SigV4 on the AWS front door. The first start of a server creates the
``admin`` principal with one of each and writes them, 0600, to ``<home>/credentials.json``.
"""

from __future__ import annotations

import hashlib
import json
import secrets
import string
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from lakeworks.core.clock import utcnow
from lakeworks.core.context import RequestContext, expand_scopes
from lakeworks.core.errors import NotFound, Unauthenticated, ValidationError
from lakeworks.core.names import arn
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.iam import store
from lakeworks.iam.cache import CredentialCache, Verified
from lakeworks.iam.secrets import SecretBox, write_private_file
from lakeworks.iam.store import CredentialRecord, PrincipalRecord
from lakeworks.schemas.iam import (
    AccessKeyCreate,
    AccessKeyInfo,
    CallerIdentity,
    TokenCreate,
    TokenInfo,
)

__all__ = ["CREDENTIALS_FILE", "IamService", "JobCredentials"]

CREDENTIALS_FILE = "credentials.json"
TOKEN_PREFIX = "lwt_"  # noqa: S105 - a prefix, not a secret
_KEY_ALPHABET = string.ascii_uppercase + string.digits


@dataclass(frozen=True)
class JobCredentials:
    """Short-lived credentials handed to one job process."""

    principal: str
    token: str
    access_key_id: str
    secret_access_key: str


def _hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


class IamService:
    """Principals, tokens and access keys.

    Args:
        settings: The settings tree (account id and region for ARNs).
        db: The metadata database.
        box: Encrypts access-key secrets at rest.
    """

    def __init__(self, settings: Settings, db: Database, box: SecretBox) -> None:
        self.settings = settings
        self.db = db
        self.box = box
        #: Credentials verified a moment ago (see :mod:`lakeworks.iam.cache`).
        self.verified = CredentialCache(settings.auth.credential_cache_seconds)

    # -- bootstrap -------------------------------------------------------------------------

    def bootstrap(self, home: Path) -> bool:
        """Create the admin principal and its first credentials on first start.

        Writes ``<home>/credentials.json`` (0600) with the token and key pair. Returns whether
        anything was created.
        """
        with self.db.session() as session:
            if store.get_principal(session, "admin") is not None:
                return False
        system = RequestContext.system()
        token = self.create_token(system, TokenCreate(description="created on first start"))
        key = self.create_access_key(system, AccessKeyCreate(description="created on first start"))
        payload = {
            "principal": "admin",
            "token": token.token,
            "access_key_id": key.access_key_id,
            "secret_access_key": key.secret_access_key,
        }
        write_private_file(home / CREDENTIALS_FILE, json.dumps(payload, indent=2).encode())
        return True

    # -- principals ------------------------------------------------------------------------

    def _ensure_principal(self, name: str, scopes: list[str]) -> None:
        with self.db.session() as session:
            record = store.get_principal(session, name)
            if record is None:
                session.add(
                    PrincipalRecord(
                        name=name, scopes=sorted(expand_scopes(scopes)), created_at=utcnow()
                    )
                )
            else:
                record.scopes = sorted(expand_scopes([*record.scopes, *scopes]))
        self.verified.clear()  # the principal's scopes may have changed

    def caller_identity(self, ctx: RequestContext) -> CallerIdentity:
        """Describe the caller."""
        return CallerIdentity(
            principal=ctx.principal,
            scopes=sorted(ctx.scopes),
            account_id=self.settings.aws.account_id,
            arn=arn(
                "iam",
                f"user/{ctx.principal}",
                account_id=self.settings.aws.account_id,
                region="",
            ),
        )

    # -- tokens ----------------------------------------------------------------------------

    def create_token(self, ctx: RequestContext, spec: TokenCreate) -> TokenInfo:
        """Create a bearer token; the secret is returned once and stored only as a hash."""
        ctx.require("admin")
        self._ensure_principal(spec.principal, list(spec.scopes))
        token_id = secrets.token_hex(8)
        token = f"{TOKEN_PREFIX}{token_id}_{secrets.token_urlsafe(32)}"
        record = self._new_credential(
            token_id, "token", spec.principal, spec.description, spec.expires_in_seconds
        )
        record.secret_hash = _hash(token)
        with self.db.session() as session:
            session.add(record)
        return self._token_info(record, token)

    def list_tokens(self, ctx: RequestContext, principal: str | None = None) -> list[TokenInfo]:
        """List tokens (never their secrets)."""
        ctx.require("admin")
        with self.db.session() as session:
            return [
                self._token_info(r) for r in store.list_credentials(session, "token", principal)
            ]

    def revoke_token(self, ctx: RequestContext, token_id: str) -> TokenInfo:
        """Revoke a token; it stops working at once."""
        ctx.require("admin")
        return self._token_info(self._revoke(token_id, "token"))

    def cached_token_context(self, token: str) -> RequestContext | None:
        """:meth:`authenticate_token` from the cache of recently verified tokens, or None.

        Needs no database, so the request path calls it without a thread hop.
        """
        if not token.startswith(TOKEN_PREFIX):
            return None
        cached = self.verified.get(f"token:{_hash(token)}")
        if cached is None:
            return None
        return RequestContext(principal=cached.principal, scopes=cached.scopes)

    def authenticate_token(self, token: str) -> RequestContext:
        """Return the context of a bearer token.

        Raises:
            Unauthenticated: Unknown, revoked or expired token.
        """
        cached = self.cached_token_context(token)
        if cached is not None:
            return cached
        if not token.startswith(TOKEN_PREFIX):
            raise Unauthenticated("Invalid bearer token")
        digest = _hash(token)
        with self.db.session() as session:
            record = store.find_token(session, digest)
            ctx = self._context(session, record, "bearer token")
            assert record is not None
            self.verified.put(
                f"token:{digest}", Verified(ctx.principal, ctx.scopes, record.expires_at)
            )
            return ctx

    # -- access keys -----------------------------------------------------------------------

    def create_access_key(self, ctx: RequestContext, spec: AccessKeyCreate) -> AccessKeyInfo:
        """Create an access-key pair; the secret is returned once (and kept encrypted)."""
        ctx.require("admin")
        self._ensure_principal(spec.principal, list(spec.scopes))
        prefix = "ASIA" if spec.expires_in_seconds else "AKIA"
        key_id = prefix + "".join(secrets.choice(_KEY_ALPHABET) for _ in range(16))
        secret = secrets.token_urlsafe(30)[:40]
        record = self._new_credential(
            key_id, "access_key", spec.principal, spec.description, spec.expires_in_seconds
        )
        record.secret_encrypted = self.box.encrypt(secret)
        with self.db.session() as session:
            session.add(record)
        return self._key_info(record, secret)

    def list_access_keys(
        self, ctx: RequestContext, principal: str | None = None
    ) -> list[AccessKeyInfo]:
        """List access keys (never their secrets)."""
        ctx.require("admin")
        with self.db.session() as session:
            return [
                self._key_info(r) for r in store.list_credentials(session, "access_key", principal)
            ]

    def revoke_access_key(self, ctx: RequestContext, access_key_id: str) -> AccessKeyInfo:
        """Revoke an access key; signatures made with it stop verifying at once."""
        ctx.require("admin")
        return self._key_info(self._revoke(access_key_id, "access_key"))

    def cached_access_key_secret(self, access_key_id: str) -> tuple[str, RequestContext] | None:
        """:meth:`access_key_secret` from the cache of recently verified keys, or None.

        Needs no database, so the request path calls it without a thread hop.
        """
        cached = self.verified.get(f"key:{access_key_id}")
        if cached is None or cached.secret is None:
            return None
        return cached.secret, RequestContext(principal=cached.principal, scopes=cached.scopes)

    def access_key_secret(self, access_key_id: str) -> tuple[str, RequestContext]:
        """Return the secret of a live access key and its principal's context, for SigV4.

        Raises:
            Unauthenticated: With AWS's ``InvalidAccessKeyId`` code.
        """
        cached = self.cached_access_key_secret(access_key_id)
        if cached is not None:
            return cached
        with self.db.session() as session:
            record = store.get_credential(session, access_key_id)
            if record is not None and record.kind != "access_key":
                record = None
            try:
                ctx = self._context(session, record, "access key")
            except Unauthenticated as exc:
                raise Unauthenticated(exc.message, aws_code="InvalidAccessKeyId") from None
            assert record is not None
            assert record.secret_encrypted is not None
            secret = self.box.decrypt(record.secret_encrypted)
            verified = Verified(ctx.principal, ctx.scopes, record.expires_at, secret)
            self.verified.put(f"key:{access_key_id}", verified)
            return secret, ctx

    # -- job credentials -------------------------------------------------------------------

    def create_job_credentials(self, principal: str, ttl_seconds: int) -> JobCredentials:
        """Create a job principal (write scope) with a token and a key pair that expire."""
        system = RequestContext.system()
        desc = "job credentials"
        token = self.create_token(
            system,
            TokenCreate(
                principal=principal,
                scopes=["write"],
                description=desc,
                expires_in_seconds=ttl_seconds,
            ),
        )
        key = self.create_access_key(
            system,
            AccessKeyCreate(
                principal=principal,
                scopes=["write"],
                description=desc,
                expires_in_seconds=ttl_seconds,
            ),
        )
        assert token.token
        assert key.secret_access_key
        return JobCredentials(principal, token.token, key.access_key_id, key.secret_access_key)

    def revoke_principal(self, principal: str) -> None:
        """Revoke every live credential of ``principal`` (a finished job's, say)."""
        now = utcnow()
        with self.db.session() as session:
            for record in session.scalars(
                select(CredentialRecord).where(
                    CredentialRecord.principal == principal, CredentialRecord.revoked_at.is_(None)
                )
            ):
                record.revoked_at = now
        self.verified.clear()

    # -- helpers ---------------------------------------------------------------------------

    def _new_credential(
        self, credential_id: str, kind: str, principal: str, description: str, ttl: int | None
    ) -> CredentialRecord:
        now = utcnow()
        return CredentialRecord(
            id=credential_id,
            kind=kind,
            principal=principal,
            description=description,
            created_at=now,
            expires_at=now + timedelta(seconds=ttl) if ttl else None,
            revoked_at=None,
        )

    def _revoke(self, credential_id: str, kind: str) -> CredentialRecord:
        with self.db.session() as session:
            record = store.get_credential(session, credential_id)
            if record is None or record.kind != kind:
                noun = "Token" if kind == "token" else "Access key"
                raise NotFound(f"{noun} {credential_id!r} does not exist")
            if record.revoked_at is None:
                record.revoked_at = utcnow()
        # After the commit: a lookup racing the revocation cannot re-cache the credential.
        self.verified.clear()
        return record

    def _context(
        self, session: Session, record: CredentialRecord | None, what: str
    ) -> RequestContext:
        if record is None:
            raise Unauthenticated(f"Unknown {what}")
        if record.revoked_at is not None:
            raise Unauthenticated(f"The {what} was revoked")
        if record.expires_at is not None and record.expires_at <= utcnow():
            raise Unauthenticated(f"The {what} expired")
        return RequestContext(
            principal=record.principal,
            scopes=expand_scopes(self._scopes(session, record.principal)),
        )

    @staticmethod
    def _scopes(session: Session, principal: str) -> list[str]:
        found = store.get_principal(session, principal)
        if found is None:
            raise ValidationError(f"Principal {principal!r} does not exist")
        return list(found.scopes)

    def _token_info(self, record: CredentialRecord, token: str | None = None) -> TokenInfo:
        return TokenInfo(
            token_id=record.id,
            principal=record.principal,
            scopes=self._record_scopes(record),
            description=record.description,
            created_at=record.created_at,
            expires_at=record.expires_at,
            revoked_at=record.revoked_at,
            token=token,
        )

    def _key_info(self, record: CredentialRecord, secret: str | None = None) -> AccessKeyInfo:
        return AccessKeyInfo(
            access_key_id=record.id,
            principal=record.principal,
            scopes=self._record_scopes(record),
            description=record.description,
            created_at=record.created_at,
            expires_at=record.expires_at,
            revoked_at=record.revoked_at,
            secret_access_key=secret,
        )

    def _record_scopes(self, record: CredentialRecord) -> list[str]:
        with self.db.session() as session:
            return sorted(expand_scopes(self._scopes(session, record.principal)))
