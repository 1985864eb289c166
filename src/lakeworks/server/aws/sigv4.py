"""AWS Signature Version 4, verified on the server side, written from AWS's specification.

A SigV4 request carries its signature either in the ``Authorization`` header or, for presigned
URLs, in the query (``X-Amz-Algorithm``, ``X-Amz-Credential``, ``X-Amz-Date``, ``X-Amz-Expires``,
``X-Amz-SignedHeaders``, ``X-Amz-Signature``). The server rebuilds the canonical request from what
it received, derives the signing key from the stored secret and compares signatures in constant
time. This module is pure: no I/O, no server types; ``server/aws/auth.py`` applies it to a request.

Canonical URI: S3 signs the path exactly as sent; every other service normalises it (dot segments,
repeated slashes) and URI-encodes it once more, as botocore's ``SigV4Auth`` does.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from urllib.parse import quote, unquote_to_bytes

from lakeworks.core.errors import AccessDenied, InvalidSignature, ValidationError

__all__ = [
    "ALGORITHM",
    "EMPTY_SHA256",
    "MAX_PRESIGN_EXPIRES",
    "STREAMING_SIGNED",
    "STREAMING_SIGNED_TRAILER",
    "STREAMING_UNSIGNED_TRAILER",
    "UNSIGNED_PAYLOAD",
    "Credential",
    "RequestParts",
    "SignatureInfo",
    "canonical_headers",
    "canonical_query",
    "canonical_request",
    "canonical_uri",
    "check_time",
    "chunk_string_to_sign",
    "parse_signature",
    "sign",
    "signing_key",
    "string_to_sign",
    "trailer_string_to_sign",
    "verify",
]

ALGORITHM = "AWS4-HMAC-SHA256"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()
UNSIGNED_PAYLOAD = "UNSIGNED-PAYLOAD"
STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"
#: AWS's limit on a presigned URL's lifetime: seven days.
MAX_PRESIGN_EXPIRES = 604800

_TIMESTAMP = "%Y%m%dT%H%M%SZ"
_TIMESTAMP_RE = re.compile(r"\d{8}T\d{6}Z")
_SIGNATURE_RE = re.compile(r"[0-9a-f]{64}")
_HEADER_NAME_RE = re.compile(r"[a-z0-9!#$%&'*+.^_`|~-]+")
_QUERY_AUTH = ("X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature")


@dataclass(frozen=True)
class Credential:
    """The ``Credential=AKID/date/region/service/aws4_request`` part of a signature."""

    access_key_id: str
    date: str
    region: str
    service: str

    @property
    def scope(self) -> str:
        """The credential scope without the key id: ``date/region/service/aws4_request``."""
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


@dataclass(frozen=True)
class SignatureInfo:
    """A parsed SigV4 signature, from the header or the query.

    Attributes:
        credential: Who signed, and for which date, region and service.
        signed_headers: Lower-case header names, in the order signed.
        signature: Hex HMAC-SHA256 the client computed.
        timestamp: ``YYYYMMDDTHHMMSSZ`` the client signed with.
        presigned: Whether the signature came in the query (a presigned URL).
        expires: Lifetime in seconds of a presigned URL.
    """

    credential: Credential
    signed_headers: tuple[str, ...]
    signature: str
    timestamp: str
    presigned: bool = False
    expires: int | None = None

    @functools.cached_property
    def time(self) -> datetime:
        """The signing time as an aware UTC datetime."""
        return _timestamp_time(self.timestamp)


@dataclass(frozen=True)
class RequestParts:
    """What the server received, as SigV4 needs it.

    Attributes:
        method: HTTP method, upper case.
        raw_path: The path exactly as sent (still percent-encoded).
        raw_query: The query string exactly as sent, without ``?``.
        headers: ``(lower-case name, value)`` pairs in arrival order, repeats kept.
    """

    method: str
    raw_path: str
    raw_query: str
    headers: tuple[tuple[str, str], ...]

    def header(self, name: str) -> str | None:
        """The first value of header ``name`` (lower case), or ``None``."""
        for key, value in self.headers:
            if key == name:
                return value
        return None


def _malformed(message: str, presigned: bool) -> ValidationError:
    code = "AuthorizationQueryParametersError" if presigned else "AuthorizationHeaderMalformed"
    return ValidationError(message, aws_code=code)


def _parse_credential(value: str, presigned: bool) -> Credential:
    parts = value.split("/")
    if len(parts) != 5 or parts[4] != "aws4_request" or not all(parts[:4]):
        raise _malformed(
            f"Malformed credential {value!r}: expected "
            "'<access key id>/<YYYYMMDD>/<region>/<service>/aws4_request'",
            presigned,
        )
    if not re.fullmatch(r"\d{8}", parts[1]):
        raise _malformed(f"Malformed credential date {parts[1]!r}: expected YYYYMMDD", presigned)
    return Credential(parts[0], parts[1], parts[2], parts[3])


def _parse_signed_headers(value: str, presigned: bool) -> tuple[str, ...]:
    names = tuple(value.split(";"))
    if not value or not all(_HEADER_NAME_RE.fullmatch(n) for n in names):
        raise _malformed(
            f"Malformed SignedHeaders {value!r}: expected lower-case header names joined by ';'",
            presigned,
        )
    if "host" not in names:
        raise _malformed("SignedHeaders must include 'host'", presigned)
    return names


def _parse_signature_value(value: str, presigned: bool) -> str:
    if not _SIGNATURE_RE.fullmatch(value):
        raise _malformed("Malformed signature: expected 64 lower-case hex digits", presigned)
    return value


def _timestamp_time(value: str) -> datetime:
    """``YYYYMMDDTHHMMSSZ`` as an aware UTC datetime (``strptime`` costs several times more).

    Raises:
        ValueError: Not of that form, or not a real date and time.
    """
    if not _TIMESTAMP_RE.fullmatch(value):
        raise ValueError(value)
    return datetime(
        int(value[0:4]),
        int(value[4:6]),
        int(value[6:8]),
        int(value[9:11]),
        int(value[11:13]),
        int(value[13:15]),
        tzinfo=UTC,
    )


def _checked_timestamp(value: str, presigned: bool) -> str:
    try:
        _timestamp_time(value)
    except ValueError:
        raise _malformed(
            f"Malformed X-Amz-Date {value!r}: expected YYYYMMDDTHHMMSSZ", presigned
        ) from None
    return value


def _header_timestamp(parts: RequestParts) -> str:
    amz_date = parts.header("x-amz-date")
    if amz_date is not None:
        return _checked_timestamp(amz_date.strip(), False)
    date = parts.header("date")
    if date is None:
        raise AccessDenied(
            "The request carries no date: send X-Amz-Date (YYYYMMDDTHHMMSSZ) or Date",
            aws_code="AccessDenied",
        )
    try:
        parsed = parsedate_to_datetime(date)
    except (TypeError, ValueError):
        raise _malformed(f"Malformed Date header {date!r}: expected RFC 1123", False) from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).strftime(_TIMESTAMP)


def parse_signature(parts: RequestParts, query: dict[str, str]) -> SignatureInfo | None:
    """Find and parse the request's SigV4 signature.

    Args:
        parts: The received request.
        query: Decoded query parameters (first value of each name).

    Returns:
        The signature, or ``None`` when the request carries no SigV4 signature (it may be
        unsigned, or a version 2 presigned URL: see ``sigv2``).

    Raises:
        ValidationError: The signature is malformed, uses another algorithm or a presigned
            URL's lifetime is out of range.
    """
    header = parts.header("authorization")
    if header is not None and header.strip():
        return _parse_header(header, parts)
    if any(name in query for name in _QUERY_AUTH):
        return _parse_query(query)
    return None


def _parse_header(header: str, parts: RequestParts) -> SignatureInfo:
    algorithm, _, rest = header.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise ValidationError(
            f"The authorization mechanism {algorithm!r} is not supported; use {ALGORITHM}",
            aws_code="InvalidRequest",
        )
    fields: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, value = item.strip().partition("=")
        if sep:
            fields[name] = value.strip()
    missing = [n for n in ("Credential", "SignedHeaders", "Signature") if n not in fields]
    if missing:
        raise _malformed(f"The Authorization header lacks {', '.join(missing)}", False)
    return SignatureInfo(
        credential=_parse_credential(fields["Credential"], False),
        signed_headers=_parse_signed_headers(fields["SignedHeaders"], False),
        signature=_parse_signature_value(fields["Signature"], False),
        timestamp=_header_timestamp(parts),
    )


def _parse_query(query: dict[str, str]) -> SignatureInfo:
    names = (*_QUERY_AUTH, "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires")
    missing = [n for n in names if n not in query]
    if missing:
        raise _malformed(
            f"A presigned URL needs {', '.join(names)}; missing {', '.join(missing)}", True
        )
    if query["X-Amz-Algorithm"] != ALGORITHM:
        raise _malformed(f"X-Amz-Algorithm must be {ALGORITHM}", True)
    timestamp = _checked_timestamp(query["X-Amz-Date"], True)
    expires = query["X-Amz-Expires"]
    if not expires.isdigit() or not 1 <= int(expires) <= MAX_PRESIGN_EXPIRES:
        raise _malformed(
            f"X-Amz-Expires must be a number of seconds from 1 to {MAX_PRESIGN_EXPIRES} "
            f"(seven days), got {expires!r}",
            True,
        )
    return SignatureInfo(
        credential=_parse_credential(query["X-Amz-Credential"], True),
        signed_headers=_parse_signed_headers(query["X-Amz-SignedHeaders"], True),
        signature=_parse_signature_value(query["X-Amz-Signature"], True),
        timestamp=timestamp,
        presigned=True,
        expires=int(expires),
    )


def check_time(info: SignatureInfo, now: datetime, max_skew_seconds: int) -> None:
    """Refuse signatures made too far from ``now``, and presigned URLs past their lifetime.

    Raises:
        ValidationError: The credential's date is not the signing date.
        InvalidSignature: ``RequestTimeTooSkewed``, a header signature off by more than the
            allowed skew.
        AccessDenied: A presigned URL that expired or is not valid yet.
    """
    if info.credential.date != info.timestamp[:8]:
        raise _malformed(
            f"The credential date {info.credential.date} is not the signing date "
            f"{info.timestamp[:8]}",
            info.presigned,
        )
    signed = info.time
    skew = timedelta(seconds=max_skew_seconds)
    if info.presigned:
        assert info.expires is not None
        if now > signed + timedelta(seconds=info.expires):
            raise AccessDenied("Request has expired", aws_code="AccessDenied")
        if signed > now + skew:
            raise AccessDenied("Request is not valid yet", aws_code="AccessDenied")
        return
    if abs(now - signed) > skew:
        raise InvalidSignature(
            f"The difference between the request time ({info.timestamp}) and the server's "
            f"time ({now.strftime(_TIMESTAMP)}) is larger than {max_skew_seconds} seconds",
            aws_code="RequestTimeTooSkewed",
        )


# -- canonical request ---------------------------------------------------------------------------


def _remove_dot_segments(path: str) -> str:
    # RFC 3986 section 5.2.4; AWS also drops empty segments (repeated slashes).
    out: list[str] = []
    for segment in path.split("/"):
        if segment in ("", "."):
            continue
        if segment == "..":
            if out:
                out.pop()
        else:
            out.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and out else ""
    return first + "/".join(out) + last


def canonical_uri(raw_path: str, *, s3: bool) -> str:
    """The CanonicalURI line.

    Args:
        raw_path: The path as sent, still percent-encoded.
        s3: S3 signs the path as sent; other services normalise and encode it once more.
    """
    if s3:
        return raw_path or "/"
    return quote(_remove_dot_segments(raw_path) or "/", safe="/~")


def canonical_query(raw_query: str, *, exclude: tuple[str, ...] = ()) -> str:
    """The CanonicalQueryString line: every parameter URI-encoded, sorted by name then value.

    Args:
        raw_query: The query as sent.
        exclude: Parameter names left out (``X-Amz-Signature`` of a presigned URL).
    """
    pairs: list[tuple[str, str]] = []
    for item in raw_query.split("&"):
        if not item:
            continue
        raw_name, _, raw_value = item.partition("=")
        name = unquote_to_bytes(raw_name)
        if name.decode("utf-8", "replace") in exclude:
            continue
        pairs.append((quote(name, safe="-_.~"), quote(unquote_to_bytes(raw_value), safe="-_.~")))
    return "&".join(f"{name}={value}" for name, value in sorted(pairs))


def canonical_headers(parts: RequestParts, signed_headers: tuple[str, ...]) -> str:
    """The CanonicalHeaders block: ``name:value`` lines of the signed headers, each ending ``\\n``.

    Repeated headers join with ``,``; values are trimmed and inner runs of spaces collapse.
    """
    wanted = set(signed_headers)
    values: dict[str, list[str]] = {name: [] for name in wanted}
    for key, value in parts.headers:
        if key in wanted:
            values[key].append(" ".join(value.split()))
    return "".join(f"{name}:{','.join(values[name])}\n" for name in sorted(wanted))


def canonical_request(
    parts: RequestParts, info: SignatureInfo, payload_hash: str, *, s3: bool
) -> str:
    """Rebuild the CanonicalRequest the client signed.

    Args:
        parts: The received request.
        info: Its parsed signature (which headers were signed, header or query form).
        payload_hash: The last line: hex SHA-256 of the body, or one of the special values.
        s3: Use S3's rules for the path.
    """
    exclude = ("X-Amz-Signature",) if info.presigned else ()
    return "\n".join(
        (
            parts.method.upper(),
            canonical_uri(parts.raw_path, s3=s3),
            canonical_query(parts.raw_query, exclude=exclude),
            canonical_headers(parts, info.signed_headers),
            ";".join(info.signed_headers),
            payload_hash,
        )
    )


# -- signing -------------------------------------------------------------------------------------


def _hmac(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


@functools.lru_cache(maxsize=1024)
def signing_key(secret: str, credential: Credential) -> bytes:
    """Derive the signing key: HMAC chain over date, region, service and ``aws4_request``.

    The key depends only on its arguments and changes once a day, so recent derivations are
    kept: every request of a client reuses the same one. A cached key is reached only through
    the secret it came from, which a revoked or expired key no longer hands out.
    """
    key = _hmac(f"AWS4{secret}".encode(), credential.date)
    key = _hmac(key, credential.region)
    key = _hmac(key, credential.service)
    return _hmac(key, "aws4_request")


def string_to_sign(timestamp: str, credential: Credential, canonical: str) -> str:
    """The StringToSign of a request."""
    digest = hashlib.sha256(canonical.encode("utf-8")).hexdigest()
    return f"{ALGORITHM}\n{timestamp}\n{credential.scope}\n{digest}"


def chunk_string_to_sign(
    timestamp: str, credential: Credential, previous_signature: str, chunk_sha256: str
) -> str:
    """The StringToSign of one chunk of a ``STREAMING-AWS4-HMAC-SHA256-PAYLOAD`` body."""
    return (
        f"{ALGORITHM}-PAYLOAD\n{timestamp}\n{credential.scope}\n{previous_signature}\n"
        f"{EMPTY_SHA256}\n{chunk_sha256}"
    )


def trailer_string_to_sign(
    timestamp: str, credential: Credential, previous_signature: str, trailer_sha256: str
) -> str:
    """The StringToSign of the trailing headers of a signed streaming body."""
    return (
        f"{ALGORITHM}-TRAILER\n{timestamp}\n{credential.scope}\n{previous_signature}\n"
        f"{trailer_sha256}"
    )


def sign(key: bytes, to_sign: str) -> str:
    """Hex HMAC-SHA256 of ``to_sign`` with the signing key."""
    return hmac.new(key, to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def verify(expected: str, given: str, *, what: str = "request") -> None:
    """Compare signatures in constant time.

    Raises:
        InvalidSignature: They differ (``SignatureDoesNotMatch``).
    """
    if not hmac.compare_digest(expected.encode(), given.encode()):
        raise InvalidSignature(
            f"The {what} signature we calculated does not match the signature you provided. "
            "Check your key and signing method."
        )
