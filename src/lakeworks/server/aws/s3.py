"""S3 (REST-XML): the action table.

Routing (which action a request is) lives in ``s3_routing``; the handlers in ``s3_buckets``,
``s3_objects``, ``s3_copy``, ``s3_multipart``, ``s3_versions``, ``s3_tagging`` and ``s3_config``.
A new S3 operation is a handler plus a line here and a rule in ``s3_routing.resolve``.
"""

from __future__ import annotations

from lakeworks.server.aws import (
    s3_buckets,
    s3_config,
    s3_copy,
    s3_multipart,
    s3_notifications,
    s3_objects,
    s3_routing,
    s3_select,
    s3_tagging,
    s3_versions,
)
from lakeworks.server.aws.service import AwsService, Handler

__all__ = ["ACTIONS", "SERVICE"]

ACTIONS: dict[str, Handler] = {
    "ListBuckets": s3_buckets.list_buckets,
    "CreateBucket": s3_buckets.create_bucket,
    "HeadBucket": s3_buckets.head_bucket,
    "DeleteBucket": s3_buckets.delete_bucket,
    "GetBucketLocation": s3_buckets.get_bucket_location,
    "ListObjectsV2": s3_buckets.list_objects_v2,
    "ListObjects": s3_buckets.list_objects,
    "PutObject": s3_objects.put_object,
    "GetObject": s3_objects.get_object,
    "HeadObject": s3_objects.head_object,
    "DeleteObject": s3_objects.delete_object,
    "DeleteObjects": s3_copy.delete_objects,
    "CopyObject": s3_copy.copy_object,
    "CreateMultipartUpload": s3_multipart.create_multipart_upload,
    "UploadPart": s3_multipart.upload_part,
    "UploadPartCopy": s3_multipart.upload_part_copy,
    "CompleteMultipartUpload": s3_multipart.complete_multipart_upload,
    "AbortMultipartUpload": s3_multipart.abort_multipart_upload,
    "ListParts": s3_multipart.list_parts,
    "ListMultipartUploads": s3_multipart.list_multipart_uploads,
    "GetBucketVersioning": s3_versions.get_bucket_versioning,
    "PutBucketVersioning": s3_versions.put_bucket_versioning,
    "ListObjectVersions": s3_versions.list_object_versions,
    "GetObjectTagging": s3_tagging.get_object_tagging,
    "PutObjectTagging": s3_tagging.put_object_tagging,
    "DeleteObjectTagging": s3_tagging.delete_object_tagging,
    "GetBucketTagging": s3_tagging.get_bucket_tagging,
    "PutBucketTagging": s3_tagging.put_bucket_tagging,
    "DeleteBucketTagging": s3_tagging.delete_bucket_tagging,
    "GetBucketEncryption": s3_config.get_bucket_encryption,
    "PutBucketEncryption": s3_config.put_bucket_encryption,
    "DeleteBucketEncryption": s3_config.delete_bucket_encryption,
    "GetBucketPolicy": s3_config.get_bucket_policy,
    "PutBucketPolicy": s3_config.put_bucket_policy,
    "DeleteBucketPolicy": s3_config.delete_bucket_policy,
    "GetBucketLifecycleConfiguration": s3_config.get_bucket_lifecycle,
    "GetBucketNotificationConfiguration": s3_notifications.get_bucket_notification,
    "PutBucketNotificationConfiguration": s3_notifications.put_bucket_notification,
    "PutBucketLifecycleConfiguration": s3_config.put_bucket_lifecycle,
    "DeleteBucketLifecycle": s3_config.delete_bucket_lifecycle,
    "SelectObjectContent": s3_select.select_object_content,
}

SERVICE = AwsService(
    name="s3",
    protocol="rest-xml",
    signing_name="s3",
    actions=ACTIONS,
    resolve=s3_routing.resolve,
)
