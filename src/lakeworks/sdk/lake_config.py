"""Bucket configuration, object versions and tags.

Reached from the lake's two collections, so each call reads like the noun it changes::

    c.buckets.versioning.enable("data")
    c.objects.versions.list("data", prefix="train/")
    c.objects.versions.get("data", "train.csv", version_id)
    c.objects.tags.put("data", "train.csv", {"stage": "raw"})
    c.buckets.tags.put("data", {"team": "ml"})
    c.buckets.encryption.put("data", algorithm="aws:kms", kms_key_id="team-key")
    c.buckets.policy.put("data", {"Version": "2012-10-17", "Statement": [...]})
    c.buckets.lifecycle.put("data", [{"id": "tmp", "filter": {"prefix": "tmp/"},
                                      "expiration": {"days": 7}}])

Each method is one route of ``server/rest/lake_config.py`` (and the same lake service call the
S3 front door makes).
"""

from __future__ import annotations

import builtins
import contextlib
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import quote

from lakeworks.schemas.lake import (
    BucketEncryption,
    BucketPolicy,
    BucketVersioning,
    DeleteResult,
    LifecycleConfiguration,
    LifecycleReport,
    LifecycleRule,
    ObjectInfo,
    ObjectVersion,
    PolicyUpdate,
    Tagging,
    TagSet,
    VersioningUpdate,
    VersionListing,
)
from lakeworks.sdk._http import Transport, request_body
from lakeworks.sdk.lake import CHUNK_SIZE, _bucket_path, _object_path, object_info_from_headers

__all__ = [
    "BucketTags",
    "Encryption",
    "Lifecycle",
    "ObjectTags",
    "ObjectVersions",
    "Policy",
    "Versioning",
]

#: Header of the version id a response describes.
VERSION_HEADER = "x-lakeworks-version-id"


def _tagging_path(bucket: str, key: str) -> str:
    # The same key encoding as an object's path; only the collection differs. The first
    # "/objects/" is the one after the bucket (bucket names have no "/").
    return _object_path(bucket, key).replace("/objects/", "/tagging/", 1)


class Versioning:
    """A bucket's versioning: ``get``, ``enable``, ``suspend``."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def get(self, bucket: str) -> BucketVersioning:
        """The versioning status: ``Enabled``, ``Suspended``, or ``None`` if never enabled.

        Raises:
            NotFound: No such bucket.
        """
        return self._t.model(BucketVersioning, "GET", f"{_bucket_path(bucket)}/versioning")

    def put(self, bucket: str, status: str) -> BucketVersioning:
        """Set the versioning status to ``Enabled`` or ``Suspended``.

        Raises:
            NotFound: No such bucket.
            ValidationError: Another status.
        """
        body = request_body(VersioningUpdate, status=status)
        path = f"{_bucket_path(bucket)}/versioning"
        return self._t.model(BucketVersioning, "PUT", path, json=body)

    def enable(self, bucket: str) -> BucketVersioning:
        """Keep every version of every key from now on."""
        return self.put(bucket, "Enabled")

    def suspend(self, bucket: str) -> BucketVersioning:
        """Stop making new versions (existing ones stay)."""
        return self.put(bucket, "Suspended")


class ObjectVersions:
    """Versions of objects and delete markers in a versioned bucket."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def listings(
        self,
        bucket: str,
        *,
        prefix: str = "",
        delimiter: str | None = None,
        max_keys: int | None = None,
    ) -> Iterator[VersionListing]:
        """Iterate over the pages of a version listing (by key, then newest first).

        Raises:
            NotFound: No such bucket.
        """
        key_marker: str | None = None
        version_marker: str | None = None
        while True:
            params = {
                "prefix": prefix or None,
                "delimiter": delimiter,
                "key_marker": key_marker,
                "version_id_marker": version_marker,
                "max_keys": max_keys,
            }
            page = self._t.model(
                VersionListing, "GET", f"{_bucket_path(bucket)}/versions", params=params
            )
            yield page
            if not page.is_truncated:
                return
            key_marker, version_marker = page.next_key_marker, page.next_version_id_marker

    def list(self, bucket: str, *, prefix: str = "") -> Iterator[ObjectVersion]:
        """Iterate over every version and delete marker under ``prefix``, across pages.

        Raises:
            NotFound: No such bucket.
        """
        for page in self.listings(bucket, prefix=prefix):
            yield from page.versions

    def get(self, bucket: str, key: str, version_id: str) -> bytes:
        """Download one version of an object into memory.

        Raises:
            NotFound: No such bucket, key or version (or the version is a delete marker).
        """
        params = {"version_id": version_id}
        return self._t.request("GET", _object_path(bucket, key), params=params).content

    def head(self, bucket: str, key: str, version_id: str) -> ObjectInfo:
        """One version's metadata without its body.

        Raises:
            NotFound: No such bucket, key or version.
        """
        response = self._t.request(
            "HEAD",
            _object_path(bucket, key),
            params={"version_id": version_id},
            what=f"s3://{bucket}/{key} version {version_id}",
        )
        info = object_info_from_headers(bucket, key, response.headers)
        return info.model_copy(update={"version_id": response.headers.get(VERSION_HEADER)})

    def download(
        self, bucket: str, key: str, version_id: str, path: str | os.PathLike[str]
    ) -> ObjectInfo:
        """Stream one version into the file ``path`` (temp file + rename).

        Raises:
            NotFound: No such bucket, key or version; nothing is written.
        """
        target = Path(path)
        tmp = target.with_name(f".{target.name}.lakeworks-part")
        url = f"{_object_path(bucket, key)}?version_id={quote(version_id, safe='')}"
        with self._t.stream("GET", url, what=f"s3://{bucket}/{key}") as response:
            info = object_info_from_headers(bucket, key, response.headers)
            try:
                with tmp.open("wb") as out:
                    for chunk in response.iter_bytes(CHUNK_SIZE):
                        out.write(chunk)
                os.replace(tmp, target)
            finally:
                with contextlib.suppress(FileNotFoundError):
                    tmp.unlink()
        return info.model_copy(update={"version_id": response.headers.get(VERSION_HEADER)})

    def delete(self, bucket: str, key: str, version_id: str) -> DeleteResult:
        """Delete one version (or delete marker) for good.

        Raises:
            NotFound: No such bucket.
        """
        response = self._t.request(
            "DELETE", _object_path(bucket, key), params={"version_id": version_id}
        )
        return DeleteResult(
            bucket=bucket,
            key=key,
            version_id=response.headers.get(VERSION_HEADER),
            delete_marker=response.headers.get("x-lakeworks-delete-marker") == "true",
        )


class ObjectTags:
    """Tags of an object (its current version, or the one named by ``version_id``)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def get(self, bucket: str, key: str, *, version_id: str | None = None) -> TagSet:
        """An object's tags.

        Raises:
            NotFound: No such bucket, key or version.
        """
        params = {"version_id": version_id}
        return self._t.model(TagSet, "GET", _tagging_path(bucket, key), params=params)

    def put(
        self, bucket: str, key: str, tags: Mapping[str, str], *, version_id: str | None = None
    ) -> TagSet:
        """Replace an object's tags.

        Raises:
            NotFound: No such bucket, key or version.
            ValidationError: Too many tags, a key or value too long, or a reserved ``aws:`` key.
        """
        body = request_body(Tagging, tags=dict(tags))
        path = _tagging_path(bucket, key)
        return self._t.model(TagSet, "PUT", path, json=body, params={"version_id": version_id})

    def delete(self, bucket: str, key: str, *, version_id: str | None = None) -> TagSet:
        """Remove an object's tags.

        Raises:
            NotFound: No such bucket, key or version.
        """
        params = {"version_id": version_id}
        return self._t.model(TagSet, "DELETE", _tagging_path(bucket, key), params=params)


class BucketTags:
    """A bucket's tags."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def get(self, bucket: str) -> dict[str, str]:
        """The bucket's tags.

        Raises:
            NotFound: No such bucket, or it has no tags (``NoSuchTagSet``, as on S3).
        """
        return self._t.model(TagSet, "GET", f"{_bucket_path(bucket)}/tags").tags

    def put(self, bucket: str, tags: Mapping[str, str]) -> dict[str, str]:
        """Replace the bucket's tags.

        Raises:
            NotFound: No such bucket.
            ValidationError: A tag breaks S3's rules.
        """
        body = request_body(Tagging, tags=dict(tags))
        return self._t.model(TagSet, "PUT", f"{_bucket_path(bucket)}/tags", json=body).tags

    def delete(self, bucket: str) -> None:
        """Remove the bucket's tags."""
        self._t.request("DELETE", f"{_bucket_path(bucket)}/tags")


class Encryption:
    """A bucket's default encryption of new objects at rest."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def get(self, bucket: str) -> BucketEncryption:
        """The default encryption.

        Raises:
            NotFound: No such bucket, or it has no default encryption.
        """
        path = f"{_bucket_path(bucket)}/encryption"
        return BucketEncryption.model_validate(self._t.request("GET", path).json())

    def put(
        self,
        bucket: str,
        *,
        algorithm: str = "AES256",
        kms_key_id: str | None = None,
        bucket_key_enabled: bool = False,
    ) -> BucketEncryption:
        """Encrypt new objects by default: ``AES256`` (SSE-S3) or ``aws:kms`` with a key id.

        Raises:
            NotFound: No such bucket.
            ValidationError: Another algorithm, or a key id without ``aws:kms``.
        """
        body = request_body(
            BucketEncryption,
            algorithm=algorithm,
            kms_key_id=kms_key_id,
            bucket_key_enabled=bucket_key_enabled,
        )
        path = f"{_bucket_path(bucket)}/encryption"
        return BucketEncryption.model_validate(self._t.request("PUT", path, json=body).json())

    def delete(self, bucket: str) -> None:
        """Stop encrypting new objects by default (encrypted ones stay encrypted)."""
        self._t.request("DELETE", f"{_bucket_path(bucket)}/encryption")


class Policy:
    """A bucket's policy (an AWS policy document)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def get(self, bucket: str) -> str:
        """The policy's JSON text, as it was set (``json.loads`` it for a dict).

        Raises:
            NotFound: No such bucket, or it has no policy (``NoSuchBucketPolicy``).
        """
        return self._t.model(BucketPolicy, "GET", f"{_bucket_path(bucket)}/policy").policy

    def put(self, bucket: str, policy: str | Mapping[str, Any]) -> str:
        """Set the policy from JSON text or a dict.

        Raises:
            NotFound: No such bucket.
            ValidationError: ``MalformedPolicy``, with the reason.
        """
        document = policy if isinstance(policy, str) else dict(policy)
        body = request_body(PolicyUpdate, policy=document)
        path = f"{_bucket_path(bucket)}/policy"
        return self._t.model(BucketPolicy, "PUT", path, json=body).policy

    def delete(self, bucket: str) -> None:
        """Remove the policy."""
        self._t.request("DELETE", f"{_bucket_path(bucket)}/policy")


class Lifecycle:
    """A bucket's lifecycle rules (expire objects, old versions, stale uploads)."""

    def __init__(self, transport: Transport) -> None:
        self._t = transport

    def get(self, bucket: str) -> builtins.list[LifecycleRule]:
        """The bucket's rules.

        Raises:
            NotFound: No such bucket, or it has no rules (``NoSuchLifecycleConfiguration``).
        """
        path = f"{_bucket_path(bucket)}/lifecycle"
        return LifecycleConfiguration.model_validate(self._t.request("GET", path).json()).rules

    def put(
        self, bucket: str, rules: Sequence[LifecycleRule | Mapping[str, Any]]
    ) -> builtins.list[LifecycleRule]:
        """Replace the bucket's rules.

        Raises:
            NotFound: No such bucket.
            ValidationError: A rule is invalid (the message names it).
        """
        items = [
            r.model_dump(mode="json", exclude_unset=True) if isinstance(r, LifecycleRule) else r
            for r in rules
        ]
        body = request_body(LifecycleConfiguration, rules=items)
        path = f"{_bucket_path(bucket)}/lifecycle"
        answer = self._t.request("PUT", path, json=body).json()
        return LifecycleConfiguration.model_validate(answer).rules

    def delete(self, bucket: str) -> None:
        """Remove the bucket's rules."""
        self._t.request("DELETE", f"{_bucket_path(bucket)}/lifecycle")

    def run(self) -> LifecycleReport:
        """Apply every bucket's rules now (admin), instead of waiting for the next sweep.

        Raises:
            AccessDenied: The caller is not an admin.
        """
        return self._t.model(LifecycleReport, "POST", "/api/v1/lifecycle/runs")
