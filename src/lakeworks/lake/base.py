"""What every part of the lake service shares: input checks, bucket records, access, key locks.

:class:`~lakeworks.lake.service.LakeService` is assembled from parts (objects, versions,
multipart uploads, bucket configuration, lifecycle), each a class on top of :class:`LakeBase`.
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.core.names import validate_key
from lakeworks.core.settings import Settings
from lakeworks.db import Database
from lakeworks.lake import store
from lakeworks.lake.access import authorize
from lakeworks.lake.encryption import Sealing
from lakeworks.lake.keyring import Keyring, check_sse
from lakeworks.lake.objects import DEFAULT_CONTENT_TYPE, ObjectStore, open_store
from lakeworks.lake.store import BucketRecord
from lakeworks.schemas.lake import BucketInfo

__all__ = [
    "MAX_METADATA_BYTES",
    "RESERVED_METADATA_PREFIX",
    "LakeBase",
    "bucket_info",
    "check_content_type",
    "check_key",
    "check_metadata",
    "close_chunks",
    "no_bucket",
    "parse_s3_uri",
]

#: S3's limit on user metadata: names and values together, in bytes.
MAX_METADATA_BYTES = 2048
#: User metadata names with this prefix are reserved for the stores' own bookkeeping.
RESERVED_METADATA_PREFIX = "lakeworks-"
_METADATA_NAME = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]+$")
_HEADER_VALUE = re.compile(r"^[\x20-\x7e]*$")
_MAX_CONTENT_TYPE = 256


def parse_s3_uri(uri: str) -> tuple[str, str]:
    """Split ``s3://bucket/key`` into bucket and key (the key may be empty).

    Raises:
        ValidationError: Not an ``s3://`` URI with a bucket.
    """
    if not isinstance(uri, str) or not uri.startswith("s3://"):
        raise ValidationError(f"Expected an s3://bucket/key URI, got {uri!r}")
    bucket, _, key = uri[len("s3://") :].partition("/")
    if not bucket:
        raise ValidationError(f"The URI {uri!r} names no bucket; use s3://bucket/key")
    return bucket, key


def check_key(key: str) -> str:
    """Check an object key (see :func:`lakeworks.core.names.validate_key`), valid UTF-8 too."""
    validate_key(key)
    try:
        key.encode("utf-8")
    except UnicodeEncodeError:
        raise ValidationError(
            "Object key must be valid UTF-8 text", aws_code="InvalidArgument"
        ) from None
    return key


def check_content_type(content_type: str | None) -> str:
    """A content type (the default when none is given), at most 256 printable ASCII chars."""
    if content_type is None or content_type == "":
        return DEFAULT_CONTENT_TYPE
    if len(content_type) > _MAX_CONTENT_TYPE or not _HEADER_VALUE.match(content_type):
        raise ValidationError(
            f"Content type must be at most {_MAX_CONTENT_TYPE} printable ASCII characters",
            aws_code="InvalidArgument",
            details={"field": "content_type"},
        )
    return content_type


def check_metadata(metadata: dict[str, str] | None) -> dict[str, str]:
    """Normalise user metadata like S3: names lower-cased; ASCII values; 2 KiB in all.

    Names starting with ``lakeworks-`` are refused: the stores keep their own bookkeeping
    there (the S3 store's backing metadata of encrypted objects).
    """
    checked: dict[str, str] = {}
    for name, value in (metadata or {}).items():
        if not isinstance(name, str) or not _METADATA_NAME.match(name):
            raise ValidationError(
                f"Invalid metadata name {name!r}: use letters, digits and !#$%&'*+.^_`|~-",
                aws_code="InvalidArgument",
                details={"field": "metadata"},
            )
        if name.lower().startswith(RESERVED_METADATA_PREFIX):
            raise ValidationError(
                f"Metadata name {name!r} is reserved: names starting with "
                f"{RESERVED_METADATA_PREFIX!r} belong to Lakeworks",
                aws_code="InvalidArgument",
                details={"field": "metadata"},
            )
        if not isinstance(value, str) or not _HEADER_VALUE.match(value):
            raise ValidationError(
                f"Invalid value for metadata {name!r}: use printable ASCII characters",
                aws_code="InvalidArgument",
                details={"field": "metadata"},
            )
        checked[name.lower()] = value
    size = sum(len(name) + len(value) for name, value in checked.items())
    if size > MAX_METADATA_BYTES:
        raise ValidationError(
            f"User metadata is {size} bytes; at most {MAX_METADATA_BYTES} are allowed",
            aws_code="MetadataTooLarge",
            details={"field": "metadata", "limit": MAX_METADATA_BYTES},
        )
    return checked


def bucket_info(record: BucketRecord) -> BucketInfo:
    """The wire shape of a bucket record."""
    return BucketInfo(
        name=record.name,
        arn=f"arn:aws:s3:::{record.name}",
        creation_time=record.created_at,
        owner=record.owner,
        tags=dict(record.tags),
    )


def no_bucket(name: str) -> NotFound:
    """``NoSuchBucket``."""
    return NotFound(f"No bucket named {name!r}", aws_code="NoSuchBucket", details={"bucket": name})


def close_chunks(chunks: Iterator[bytes]) -> None:
    """Release what an unread chunk iterator holds open (a file, a connection)."""
    close = getattr(chunks, "close", None)
    if close is not None:
        close()


class _KeyLocks:
    """One lock per (bucket, key) in use; entries vanish when nobody holds or waits for them.

    The locks are reentrant: an operation holding a key's lock may call another that takes it.
    """

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._locks: dict[tuple[str, str], tuple[threading.RLock, int]] = {}

    @contextlib.contextmanager
    def hold(self, bucket: str, key: str) -> Iterator[None]:
        name = (bucket, key)
        with self._guard:
            lock, users = self._locks.get(name, (threading.RLock(), 0))
            self._locks[name] = (lock, users + 1)
        try:
            with lock:
                yield
        finally:
            with self._guard:
                lock, users = self._locks[name]
                if users == 1:
                    del self._locks[name]
                else:
                    self._locks[name] = (lock, users - 1)


class LakeBase:
    """State and helpers shared by the parts of the lake service.

    Args:
        settings: The settings tree (store location, object size limit, account id).
        db: The metadata database.
        object_store: The store for bytes; built from ``settings`` when omitted.
    """

    def __init__(
        self, settings: Settings, db: Database, object_store: ObjectStore | None = None
    ) -> None:
        self.settings = settings
        self.db = db
        self.store: ObjectStore = object_store or open_store(settings)
        self.keyring = Keyring(settings, db)
        self.store.keys = self.keyring.resolve
        self._key_locks = _KeyLocks()

    @property
    def max_object_bytes(self) -> int:
        """Largest single PUT (and part) accepted."""
        return self.settings.server.max_object_bytes

    def key_lock(self, bucket: str, key: str) -> contextlib.AbstractContextManager[None]:
        """Serialises writes to one key in this process (versions, conditions, tags)."""
        return self._key_locks.hold(bucket, key)

    def _record(self, name: str) -> BucketRecord | None:
        with self.db.session() as session:
            return store.get_bucket(session, name)

    def _require_bucket(self, name: str) -> BucketRecord:
        record = self._record(name)
        if record is None:
            raise no_bucket(name)
        return record

    def _bucket_for(
        self,
        ctx: RequestContext,
        name: str,
        action: str,
        scope: str,
        *,
        key: str | None = None,
        context: Mapping[str, str | Sequence[str]] | None = None,
    ) -> BucketRecord:
        """The bucket ``name``, once ``ctx`` is found allowed to perform ``action`` in it.

        Raises:
            AccessDenied: Refused by scope or bucket policy (a caller without the scope is
                refused for a missing bucket too, as before bucket policies existed).
            NotFound: ``NoSuchBucket``.
        """
        record = self._record(name)
        if record is None:
            ctx.require(scope)
            raise no_bucket(name)
        authorize(
            ctx,
            bucket=name,
            owner=record.owner,
            policy=record.policy,
            action=action,
            scope=scope,
            account_id=self.settings.aws.account_id,
            key=key,
            context=context,
        )
        return record

    def _update_bucket(self, name: str, **fields: Any) -> BucketRecord:
        """Set columns of a bucket record.

        Raises:
            NotFound: ``NoSuchBucket``.
        """
        with self.db.session() as session:
            record = store.get_bucket(session, name)
            if record is None:
                raise no_bucket(name)
            for field, value in fields.items():
                setattr(record, field, value)
        return record

    def _sealing(
        self, record: BucketRecord, requested: tuple[str, str | None] | None
    ) -> Sealing | None:
        """How a new object of ``record``'s bucket is sealed: as requested, else by the bucket's
        default encryption, else not at all."""
        if requested is None and record.encryption:
            requested = check_sse(
                record.encryption.get("algorithm"), record.encryption.get("kms_key_id")
            )
        if requested is None:
            return None
        if not record.sealed:
            # listings of the S3 store must now describe objects exactly (see ObjectStore.list)
            self._update_bucket(record.name, sealed=True)
            record.sealed = True
        return self.keyring.sealing(record.name, *requested)
