"""Bucket configuration and object tags (part of the lake service).

Bucket tags, default encryption, the bucket policy and lifecycle rules live on the bucket's
record; object tags live with the object in the store (each version has its own). Reading a
configuration a bucket does not have is a 404 with S3's code for it (``NoSuchTagSet``,
``ServerSideEncryptionConfigurationNotFoundError``, ``NoSuchBucketPolicy``,
``NoSuchLifecycleConfiguration``).

Setting or deleting a bucket policy needs the ``admin`` scope unless the caller owns the bucket
(the policy decides who else may use the bucket, so write access alone is not enough).
"""

from __future__ import annotations

import json
from typing import Any

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound
from lakeworks.lake.base import check_key
from lakeworks.lake.keyring import check_sse
from lakeworks.lake.lifecycle import check_rules
from lakeworks.lake.policies import malformed, parse_policy
from lakeworks.lake.tagging import validate_bucket_tags, validate_object_tags
from lakeworks.lake.versioned import VersionOps
from lakeworks.schemas.lake import (
    BucketEncryption,
    BucketPolicy,
    LifecycleConfiguration,
    LifecycleRule,
    TagSet,
)

__all__ = ["BucketConfigOps"]


def _missing(bucket: str, what: str, code: str) -> NotFound:
    return NotFound(f"Bucket {bucket!r} has no {what}", aws_code=code, details={"bucket": bucket})


class BucketConfigOps(VersionOps):
    """Tags (bucket and object), default encryption, bucket policies, lifecycle rules."""

    # -- bucket tags ---------------------------------------------------------------------------

    def get_bucket_tagging(self, ctx: RequestContext, bucket: str) -> TagSet:
        """The bucket's tags.

        Raises:
            NotFound: ``NoSuchBucket``, or ``NoSuchTagSet`` when it has none.
        """
        record = self._bucket_for(ctx, bucket, "s3:GetBucketTagging", "read")
        if not record.tags:
            raise _missing(bucket, "tags", "NoSuchTagSet")
        return TagSet(tags=dict(record.tags))

    def put_bucket_tagging(self, ctx: RequestContext, bucket: str, tags: dict[str, str]) -> TagSet:
        """Replace the bucket's tags (at most 50).

        Raises:
            ValidationError: ``InvalidTag``.
        """
        self._bucket_for(ctx, bucket, "s3:PutBucketTagging", "write")
        checked = validate_bucket_tags(tags)
        self._update_bucket(bucket, tags=checked)
        return TagSet(tags=checked)

    def delete_bucket_tagging(self, ctx: RequestContext, bucket: str) -> None:
        """Remove the bucket's tags (S3 authorises this as ``s3:PutBucketTagging``)."""
        self._bucket_for(ctx, bucket, "s3:PutBucketTagging", "write")
        self._update_bucket(bucket, tags={})

    # -- object tags ---------------------------------------------------------------------------

    def _tag_target(
        self, ctx: RequestContext, bucket: str, key: str, version_id: str | None, action: str
    ) -> tuple[str | None, str | None]:
        """Where the tags of ``key`` (or of one version) live: ``(archive, version id)``."""
        versioned_action = action.replace("Object", "ObjectVersion", 1) if version_id else action
        scope = "read" if action.startswith("s3:Get") else "write"
        context = {"s3:versionid": version_id} if version_id else None
        record = self._bucket_for(ctx, bucket, versioned_action, scope, key=key, context=context)
        check_key(key)
        info = self._describe(record, key, version_id)  # NoSuchKey, NoSuchVersion, 405, 400
        if record.versioning is None or version_id is None:
            return None, info.version_id
        row = self._version(bucket, key, version_id)
        return (row.archive if row is not None else None), version_id

    def get_object_tagging(
        self, ctx: RequestContext, bucket: str, key: str, *, version_id: str | None = None
    ) -> TagSet:
        """An object's (or a version's) tags.

        Raises:
            NotFound: ``NoSuchBucket``, ``NoSuchKey`` or ``NoSuchVersion``.
        """
        archive, vid = self._tag_target(ctx, bucket, key, version_id, "s3:GetObjectTagging")
        return TagSet(tags=self.store.get_tags(bucket, key, archive=archive), version_id=vid)

    def put_object_tagging(
        self,
        ctx: RequestContext,
        bucket: str,
        key: str,
        tags: dict[str, str],
        *,
        version_id: str | None = None,
    ) -> TagSet:
        """Replace an object's (or a version's) tags (at most 10).

        Raises:
            NotFound: ``NoSuchBucket``, ``NoSuchKey`` or ``NoSuchVersion``.
            ValidationError: ``InvalidTag``.
        """
        checked = validate_object_tags(tags)
        with self.key_lock(bucket, key):
            archive, vid = self._tag_target(ctx, bucket, key, version_id, "s3:PutObjectTagging")
            self.store.put_tags(bucket, key, checked, archive=archive)
        return TagSet(tags=checked, version_id=vid)

    def delete_object_tagging(
        self, ctx: RequestContext, bucket: str, key: str, *, version_id: str | None = None
    ) -> TagSet:
        """Remove an object's (or a version's) tags."""
        with self.key_lock(bucket, key):
            archive, vid = self._tag_target(ctx, bucket, key, version_id, "s3:DeleteObjectTagging")
            self.store.put_tags(bucket, key, {}, archive=archive)
        return TagSet(tags={}, version_id=vid)

    # -- encryption ----------------------------------------------------------------------------

    def get_bucket_encryption(self, ctx: RequestContext, bucket: str) -> BucketEncryption:
        """The bucket's default encryption.

        Raises:
            NotFound: ``ServerSideEncryptionConfigurationNotFoundError`` when it has none.
        """
        record = self._bucket_for(ctx, bucket, "s3:GetEncryptionConfiguration", "read")
        if not record.encryption:
            raise _missing(
                bucket,
                "default encryption configuration",
                "ServerSideEncryptionConfigurationNotFoundError",
            )
        return BucketEncryption.model_validate(record.encryption)

    def put_bucket_encryption(
        self, ctx: RequestContext, bucket: str, spec: BucketEncryption
    ) -> BucketEncryption:
        """Seal new objects of the bucket by default (``AES256`` or ``aws:kms`` with a key id).

        Objects already there stay as they are; each keeps naming the data key that sealed it.

        Raises:
            ValidationError: An unknown algorithm, or a key id without ``aws:kms``.
        """
        self._bucket_for(ctx, bucket, "s3:PutEncryptionConfiguration", "write")
        algorithm, kms_key_id = check_sse(spec.algorithm, spec.kms_key_id) or ("AES256", None)
        checked = BucketEncryption(
            algorithm=algorithm, kms_key_id=kms_key_id, bucket_key_enabled=spec.bucket_key_enabled
        )
        self._update_bucket(bucket, encryption=checked.model_dump(mode="json"))
        return checked

    def delete_bucket_encryption(self, ctx: RequestContext, bucket: str) -> None:
        """Stop sealing new objects by default (S3 authorises this as
        ``s3:PutEncryptionConfiguration``); sealed objects stay sealed."""
        self._bucket_for(ctx, bucket, "s3:PutEncryptionConfiguration", "write")
        self._update_bucket(bucket, encryption=None)

    def is_encrypted(self, bucket: str) -> bool:
        """Whether the bucket may hold sealed objects (default encryption, or any object ever
        written sealed). Tools that read lake files in place (DuckDB) must then read through
        the lake instead; a sealed object's ``ObjectInfo.server_side_encryption`` is set.

        Raises:
            NotFound: ``NoSuchBucket``.
        """
        record = self._require_bucket(bucket)
        return bool(record.sealed or record.encryption)

    # -- policies ------------------------------------------------------------------------------

    def _policy_scope(self, ctx: RequestContext, bucket: str) -> str:
        record = self._record(bucket)
        return "write" if record is not None and record.owner == ctx.principal else "admin"

    def get_bucket_policy(self, ctx: RequestContext, bucket: str) -> BucketPolicy:
        """The bucket policy as it was set.

        Raises:
            NotFound: ``NoSuchBucketPolicy`` when it has none.
        """
        record = self._bucket_for(ctx, bucket, "s3:GetBucketPolicy", "read")
        if record.policy is None:
            raise _missing(bucket, "bucket policy", "NoSuchBucketPolicy")
        return BucketPolicy(policy=record.policy)

    def put_bucket_policy(
        self, ctx: RequestContext, bucket: str, policy: str | dict[str, Any]
    ) -> BucketPolicy:
        """Set the bucket policy (AWS policy grammar; see :mod:`lakeworks.lake.policies`).

        Raises:
            ValidationError: ``MalformedPolicy`` with the reason.
            AccessDenied: The caller neither owns the bucket nor has the ``admin`` scope.
        """
        scope = self._policy_scope(ctx, bucket)
        self._bucket_for(ctx, bucket, "s3:PutBucketPolicy", scope)
        if isinstance(policy, dict):
            text = json.dumps(policy)
        elif isinstance(policy, str):
            text = policy
        else:
            raise malformed("A policy is a JSON document")
        parse_policy(text, bucket)
        self._update_bucket(bucket, policy=text)
        return BucketPolicy(policy=text)

    def delete_bucket_policy(self, ctx: RequestContext, bucket: str) -> None:
        """Remove the bucket policy (deleting none is not an error)."""
        scope = self._policy_scope(ctx, bucket)
        self._bucket_for(ctx, bucket, "s3:DeleteBucketPolicy", scope)
        self._update_bucket(bucket, policy=None)

    # -- lifecycle -----------------------------------------------------------------------------

    def get_bucket_lifecycle(self, ctx: RequestContext, bucket: str) -> LifecycleConfiguration:
        """The bucket's lifecycle rules.

        Raises:
            NotFound: ``NoSuchLifecycleConfiguration`` when it has none.
        """
        record = self._bucket_for(ctx, bucket, "s3:GetLifecycleConfiguration", "read")
        if not record.lifecycle:
            raise _missing(bucket, "lifecycle configuration", "NoSuchLifecycleConfiguration")
        return LifecycleConfiguration(
            rules=[LifecycleRule.model_validate(rule) for rule in record.lifecycle]
        )

    def put_bucket_lifecycle(
        self, ctx: RequestContext, bucket: str, rules: list[LifecycleRule]
    ) -> LifecycleConfiguration:
        """Replace the bucket's lifecycle rules; the sweeper applies them.

        Raises:
            ValidationError: ``MalformedXML`` or ``InvalidArgument`` with the reason.
        """
        self._bucket_for(ctx, bucket, "s3:PutLifecycleConfiguration", "write")
        checked = check_rules(rules)
        self._update_bucket(bucket, lifecycle=[rule.model_dump(mode="json") for rule in checked])
        return LifecycleConfiguration(rules=checked)

    def delete_bucket_lifecycle(self, ctx: RequestContext, bucket: str) -> None:
        """Remove the bucket's lifecycle rules (S3 authorises this as
        ``s3:PutLifecycleConfiguration``)."""
        self._bucket_for(ctx, bucket, "s3:PutLifecycleConfiguration", "write")
        self._update_bucket(bucket, lifecycle=None)
