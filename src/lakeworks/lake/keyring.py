"""Data keys for encryption at rest, wrapped by the server's master key.

Each bucket gets one random 256-bit data key per key label: ``""`` for SSE-S3 (``AES256``) and
the key id the client named for SSE-KMS (``aws:kms``; Lakeworks has no key service, so the label
names a data key of its own). Data keys are stored only wrapped (Fernet) by the master key that
also protects stored secrets (``auth.master_key`` or ``<home>/master.key``), and cached
unwrapped in memory. Every encrypted object names its data key by id in its header, so objects
stay readable after the bucket's default encryption changes.
"""

from __future__ import annotations

import base64
import os
import threading

from sqlalchemy.exc import IntegrityError

from lakeworks.core.clock import utcnow
from lakeworks.core.errors import InternalError, ValidationError
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.iam.secrets import SecretBox
from lakeworks.lake import store
from lakeworks.lake.encryption import ALGORITHMS, KEY_ID_SIZE, Sealing
from lakeworks.lake.store import DataKeyRecord

__all__ = ["DEFAULT_KMS_LABEL", "MAX_KMS_KEY_ID", "Keyring", "check_sse"]

#: The label of ``aws:kms`` without a key id (AWS's managed key for S3 has this alias).
DEFAULT_KMS_LABEL = "aws/s3"
#: Longest ``aws:kms`` key id accepted (AWS key ARNs and alias ARNs fit easily).
MAX_KMS_KEY_ID = 512


def check_sse(algorithm: str | None, kms_key_id: str | None) -> tuple[str, str | None] | None:
    """Check a requested server-side encryption; ``None`` when none was asked for.

    Returns:
        ``(algorithm, kms key id)``; the key id only for ``aws:kms``.

    Raises:
        ValidationError: An unknown algorithm, or a key id without ``aws:kms``
            (``InvalidArgument``, as S3 answers).
    """
    if algorithm is None or algorithm == "":
        if kms_key_id:
            raise ValidationError(
                "A KMS key id needs x-amz-server-side-encryption: aws:kms",
                aws_code="InvalidArgument",
            )
        return None
    if algorithm not in ALGORITHMS:
        raise ValidationError(
            f"Invalid server-side encryption algorithm {algorithm!r}: use one of "
            f"{', '.join(ALGORITHMS)}",
            aws_code="InvalidArgument",
            details={"field": "server_side_encryption", "allowed": list(ALGORITHMS)},
        )
    if algorithm != "aws:kms":
        if kms_key_id:
            raise ValidationError(
                "A KMS key id is only valid with the aws:kms algorithm",
                aws_code="InvalidArgument",
            )
        return algorithm, None
    if kms_key_id is not None and (
        not 1 <= len(kms_key_id) <= MAX_KMS_KEY_ID or not kms_key_id.isprintable()
    ):
        raise ValidationError(
            f"The KMS key id must be 1-{MAX_KMS_KEY_ID} printable characters",
            aws_code="InvalidArgument",
        )
    return algorithm, kms_key_id or None


class Keyring:
    """Makes, wraps, stores and unwraps the lake's data keys.

    Args:
        settings: Where the master key lives (``auth.master_key`` or the home).
        db: The metadata database holding wrapped keys.
    """

    def __init__(self, settings: Settings, db: Database) -> None:
        self._settings = settings
        self._db = db
        self._box: SecretBox | None = None
        self._keys: dict[bytes, bytes] = {}
        self._lock = threading.Lock()

    def _secret_box(self) -> SecretBox:
        # made on first use: servers that never encrypt never need a master key file
        with self._lock:
            if self._box is None:
                configured = self._settings.auth.master_key
                self._box = SecretBox.from_home(
                    self._settings.home, configured.get_secret_value() if configured else None
                )
            return self._box

    def sealing(self, bucket: str, algorithm: str, kms_key_id: str | None) -> Sealing:
        """The data key that seals new objects of ``bucket`` under ``algorithm``/``kms_key_id``.

        The key is made (and stored wrapped) on first use.
        """
        label = (kms_key_id or DEFAULT_KMS_LABEL) if algorithm == "aws:kms" else ""
        with self._db.session() as session:
            record = store.get_data_key(session, bucket, label)
        if record is None:
            record = self._create(bucket, label)
        key_id = bytes.fromhex(record.key_id)
        return Sealing(algorithm, kms_key_id, key_id, self.resolve(key_id))

    def _create(self, bucket: str, label: str) -> DataKeyRecord:
        key = os.urandom(32)
        record = DataKeyRecord(
            key_id=os.urandom(KEY_ID_SIZE).hex(),
            bucket=bucket,
            label=label,
            wrapped=self._secret_box().encrypt(base64.b64encode(key).decode()),
            created_at=utcnow(),
        )
        try:
            with self._db.session() as session:
                session.add(record)
        except IntegrityError:  # made concurrently: use that one
            with self._db.session() as session:
                existing = store.get_data_key(session, bucket, label)
            if existing is None:
                raise
            return existing
        with self._lock:
            self._keys[bytes.fromhex(record.key_id)] = key
        return record

    def resolve(self, key_id: bytes) -> bytes:
        """The data key with id ``key_id`` (a :data:`~lakeworks.lake.encryption.KeyResolver`).

        Raises:
            InternalError: No such key, or the master key cannot unwrap it.
        """
        with self._lock:
            cached = self._keys.get(key_id)
        if cached is not None:
            return cached
        with self._db.session() as session:
            record = store.get_data_key_by_id(session, key_id.hex())
        if record is None:
            raise InternalError(
                f"The data key {key_id.hex()} that sealed this object is not in the database; "
                "the object cannot be decrypted"
            )
        key = base64.b64decode(self._secret_box().decrypt(record.wrapped))
        with self._lock:
            self._keys[key_id] = key
        return key

    def forget_bucket(self, bucket: str) -> None:
        """Delete the data keys of a bucket that no longer holds any object."""
        with self._db.session() as session:
            for record in store.data_keys_of(session, bucket):
                session.delete(record)
                with self._lock:
                    self._keys.pop(bytes.fromhex(record.key_id), None)
