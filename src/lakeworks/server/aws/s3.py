"""S3 (REST-XML): the action table.

Routing (which action a request is) lives in ``s3_routing``; the handlers in ``s3_buckets``,
``s3_objects`` and ``s3_multipart``. A new S3 operation is a handler plus a line here and a rule
in ``s3_routing.resolve``.
"""

from __future__ import annotations

from lakeworks.server.aws import s3_buckets, s3_multipart, s3_objects, s3_routing
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
    "DeleteObjects": s3_objects.delete_objects,
    "CopyObject": s3_objects.copy_object,
    "CreateMultipartUpload": s3_multipart.create_multipart_upload,
    "UploadPart": s3_multipart.upload_part,
    "UploadPartCopy": s3_multipart.upload_part_copy,
    "CompleteMultipartUpload": s3_multipart.complete_multipart_upload,
    "AbortMultipartUpload": s3_multipart.abort_multipart_upload,
    "ListParts": s3_multipart.list_parts,
    "ListMultipartUploads": s3_multipart.list_multipart_uploads,
}

SERVICE = AwsService(
    name="s3",
    protocol="rest-xml",
    signing_name="s3",
    actions=ACTIONS,
    resolve=s3_routing.resolve,
)
