"""Which S3 operation a request is, and which bucket and key it addresses.

S3 names operations by method, by whether a bucket and a key are addressed, and by query
"subresources" (``?uploads``, ``?delete``, ``?location`` …). Buckets are addressed by path
(``/<bucket>/<key>``) or by virtual host (``Host: <bucket>.<server host>``).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from urllib.parse import urlsplit

from lakeworks.core.errors import ValidationError
from lakeworks.core.settings import Settings
from lakeworks.server.aws.protocol import MethodNotAllowed, Unsupported
from lakeworks.server.aws.request import AwsRequest
from lakeworks.server.aws.service import AwsCall

__all__ = [
    "S3Address",
    "address_of",
    "bucket_of",
    "object_of",
    "resolve",
    "virtual_host_bucket",
]

#: Subresources of S3 features Lakeworks does not implement: answered 501 NotImplemented rather
#: than mistaken for the plain operation (a ``PUT ?acl`` must never overwrite the object).
UNSUPPORTED_SUBRESOURCES = frozenset(
    {
        "accelerate",
        "acl",
        "analytics",
        "attributes",
        "cors",
        "intelligent-tiering",
        "inventory",
        "legal-hold",
        "logging",
        "metadataConfiguration",
        "metadataTable",
        "metrics",
        "object-lock",
        "ownershipControls",
        "policyStatus",
        "publicAccessBlock",
        "renameObject",
        "replication",
        "requestPayment",
        "restore",
        "retention",
        "session",
        "torrent",
        "website",
    }
)


@dataclass(frozen=True)
class S3Address:
    """The bucket and key a request addresses (either may be absent)."""

    bucket: str | None
    key: str | None


def _server_hosts(settings: Settings) -> set[str]:
    hosts = {"localhost", settings.server.host.lower()}
    public = urlsplit(settings.public_url).hostname
    if public:
        hosts.add(public.lower())
    named = set()
    for host in hosts:
        try:
            ipaddress.ip_address(host.strip("[]"))
        except ValueError:
            if host:
                named.add(host)
    return named


def virtual_host_bucket(request: AwsRequest, settings: Settings) -> str | None:
    """The bucket a Host of ``<bucket>.<server host>`` (``photos.localhost``) names, if any."""
    host = request.host
    for server_host in _server_hosts(settings):
        if host.endswith("." + server_host):
            return host[: -len(server_host) - 1]
    return None


def address_of(request: AwsRequest, settings: Settings) -> S3Address:
    """The bucket and key of an S3 request, virtual-host style first, then path style.

    A Host of ``<bucket>.<server host>`` names the bucket and the whole path is the key;
    otherwise the first path segment is the bucket.

    Raises:
        ValidationError: ``InvalidURI`` when the path does not decode to UTF-8.
    """
    if not request.path_is_utf8:
        raise ValidationError(
            "Couldn't parse the specified URI: the percent-decoded path is not valid UTF-8",
            aws_code="InvalidURI",
        )
    bucket = virtual_host_bucket(request, settings)
    if bucket is not None:
        return S3Address(bucket, request.path[1:] or None)
    path = request.path[1:] if request.path.startswith("/") else request.path
    if not path:
        return S3Address(None, None)
    bucket, _, key = path.partition("/")
    return S3Address(bucket, key or None)


def bucket_of(call: AwsCall) -> str:
    """The bucket a bucket-level call addresses (routing guarantees there is one)."""
    bucket = address_of(call.request, call.settings).bucket
    assert bucket is not None
    return bucket


def object_of(call: AwsCall) -> tuple[str, str]:
    """The bucket and key an object-level call addresses (routing guarantees both)."""
    address = address_of(call.request, call.settings)
    assert address.bucket is not None
    assert address.key is not None
    return address.bucket, address.key


def _has(request: AwsRequest, name: str) -> bool:
    return name in request.query


def resolve(request: AwsRequest, settings: Settings) -> str:
    """The S3 action a request names.

    Raises:
        Unsupported: A subresource or operation Lakeworks does not implement (501).
        MethodNotAllowed: A method S3 does not define for what is addressed (405).
        ValidationError: ``list-type`` other than 2.
    """
    unsupported = sorted(UNSUPPORTED_SUBRESOURCES.intersection(request.query))
    if unsupported:
        raise Unsupported(
            f"The S3 feature '?{unsupported[0]}' is not implemented by Lakeworks; buckets, "
            "objects, listings, multipart uploads, versioning, tagging, encryption, policies "
            "and lifecycle rules are"
        )
    address = address_of(request, settings)
    method = request.method
    if address.bucket is None:
        if method == "GET":
            return "ListBuckets"
        raise MethodNotAllowed(f"{method} is not allowed on the service root; use GET")
    if address.key is None:
        return _bucket_action(request, method)
    return _object_action(request, method)


#: Bucket subresources of configuration: ``?name`` → (GET, PUT, DELETE) action.
_BUCKET_CONFIG = {
    "versioning": ("GetBucketVersioning", "PutBucketVersioning", None),
    "tagging": ("GetBucketTagging", "PutBucketTagging", "DeleteBucketTagging"),
    "encryption": ("GetBucketEncryption", "PutBucketEncryption", "DeleteBucketEncryption"),
    "policy": ("GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy"),
    "lifecycle": (
        "GetBucketLifecycleConfiguration",
        "PutBucketLifecycleConfiguration",
        "DeleteBucketLifecycle",
    ),
    "notification": (
        "GetBucketNotificationConfiguration",
        "PutBucketNotificationConfiguration",
        None,
    ),
}


def _bucket_config_action(request: AwsRequest, method: str) -> str | None:
    for name, (get, put, delete) in _BUCKET_CONFIG.items():
        if not _has(request, name):
            continue
        action = {"GET": get, "PUT": put, "DELETE": delete}.get(method)
        if action is None:
            raise MethodNotAllowed(f"{method} is not allowed on ?{name}")
        return action
    return None


def _bucket_action(request: AwsRequest, method: str) -> str:
    config = _bucket_config_action(request, method) if method != "HEAD" else None
    if config is not None:
        return config
    if method == "GET":
        if _has(request, "location"):
            return "GetBucketLocation"
        if _has(request, "versions"):
            return "ListObjectVersions"
        if _has(request, "uploads"):
            return "ListMultipartUploads"
        list_type = request.query.get("list-type")
        if list_type is None:
            return "ListObjects"
        if list_type == "2":
            return "ListObjectsV2"
        raise ValidationError(
            f"Invalid list-type {list_type!r}: use 2, or omit it for ListObjects",
            aws_code="InvalidArgument",
        )
    if method == "PUT":
        return "CreateBucket"
    if method == "HEAD":
        return "HeadBucket"
    if method == "DELETE":
        return "DeleteBucket"
    if method == "POST":
        if _has(request, "delete"):
            return "DeleteObjects"
        raise Unsupported("Browser-form uploads (POST to a bucket) are not implemented")
    raise MethodNotAllowed(f"{method} is not allowed on a bucket; use GET, PUT, HEAD or DELETE")


def _object_action(request: AwsRequest, method: str) -> str:
    if _has(request, "tagging"):
        action = {
            "GET": "GetObjectTagging",
            "PUT": "PutObjectTagging",
            "DELETE": "DeleteObjectTagging",
        }.get(method)
        if action is None:
            raise MethodNotAllowed(f"{method} is not allowed on ?tagging; use GET, PUT or DELETE")
        return action
    multipart = _has(request, "uploadId")
    if method == "GET":
        return "ListParts" if multipart else "GetObject"
    if method == "HEAD":
        return "HeadObject"
    if method == "PUT":
        copy = request.header("x-amz-copy-source") is not None
        if multipart or _has(request, "partNumber"):
            return "UploadPartCopy" if copy else "UploadPart"
        return "CopyObject" if copy else "PutObject"
    if method == "DELETE":
        return "AbortMultipartUpload" if multipart else "DeleteObject"
    if method == "POST":
        if _has(request, "uploads"):
            return "CreateMultipartUpload"
        if multipart:
            return "CompleteMultipartUpload"
        if _has(request, "select"):
            return "SelectObjectContent"
        raise Unsupported("This POST on an object is not implemented by Lakeworks")
    raise MethodNotAllowed(
        f"{method} is not allowed on an object; use GET, PUT, HEAD, DELETE or POST"
    )
