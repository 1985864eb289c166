"""S3's XML documents and header formats: building responses, reading request bodies.

Element names follow botocore's ``s3/2006-03-01/service-2.json``. Request bodies are small
(bounded by ``server.max_body_bytes``) and parsed with the standard library's expat, which
expands no external entities; documents with a DOCTYPE are refused outright, so no entity
expansion of any kind happens.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.utils import format_datetime
from urllib.parse import quote
from xml.etree import ElementTree

from starlette.responses import Response

from lakeworks.core.errors import ValidationError

__all__ = [
    "NAMESPACE",
    "add",
    "children",
    "document",
    "http_date",
    "iso_time",
    "malformed",
    "parse",
    "parse_complete_multipart",
    "parse_create_bucket",
    "parse_delete",
    "quote_etag",
    "text_of",
    "url_encoded",
    "xml_response",
]

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
#: S3 deletes at most this many keys per DeleteObjects request.
MAX_DELETE_KEYS = 1000


def document(tag: str) -> ElementTree.Element:
    """A response's root element in S3's namespace."""
    return ElementTree.Element(tag, xmlns=NAMESPACE)


def add(
    parent: ElementTree.Element, tag: str, text: str | int | bool | None = None
) -> ElementTree.Element:
    """Append a child element; booleans become ``true``/``false``."""
    child = ElementTree.SubElement(parent, tag)
    if isinstance(text, bool):
        child.text = "true" if text else "false"
    elif text is not None:
        child.text = str(text)
    return child


def xml_response(
    root: ElementTree.Element, *, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """Serialise ``root`` as an ``application/xml`` response."""
    body = b'<?xml version="1.0" encoding="UTF-8"?>\n' + ElementTree.tostring(root)
    return Response(body, status, headers, media_type="application/xml")


def http_date(moment: datetime) -> str:
    """RFC 1123 date for ``Last-Modified`` (``Tue, 15 Nov 1994 08:12:31 GMT``)."""
    return format_datetime(moment.astimezone(UTC).replace(microsecond=0), usegmt=True)


def iso_time(moment: datetime) -> str:
    """S3's timestamp in XML: ISO 8601 with milliseconds and ``Z``."""
    utc = moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def quote_etag(etag: str) -> str:
    """ETags travel quoted in headers and XML; the lake keeps them unquoted."""
    return f'"{etag}"'


def url_encoded(value: str, encode: bool) -> str:
    """A key or prefix for a listing: URL-encoded when the client asked ``encoding-type=url``."""
    return quote(value, safe="/") if encode else value


# -- request bodies ------------------------------------------------------------------------------


def _malformed(detail: str) -> ValidationError:
    return ValidationError(
        f"The XML you provided was not well-formed or did not validate against our published "
        f"schema: {detail}",
        aws_code="MalformedXML",
    )


def _local(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]


def _parse(body: bytes, root_tag: str) -> ElementTree.Element:
    if b"<!DOCTYPE" in body.upper() or b"<!ENTITY" in body.upper():
        raise _malformed("document type declarations are not allowed")
    try:
        root = ElementTree.fromstring(body)  # noqa: S314 - DOCTYPE refused above, size bounded
    except ElementTree.ParseError as exc:
        raise _malformed(str(exc)) from None
    if _local(root.tag) != root_tag:
        raise _malformed(f"expected a <{root_tag}> document, got <{_local(root.tag)}>")
    return root


def _children(element: ElementTree.Element, tag: str) -> list[ElementTree.Element]:
    return [child for child in element if _local(child.tag) == tag]


def _text(element: ElementTree.Element, tag: str) -> str | None:
    found = _children(element, tag)
    return (found[0].text or "") if found else None


def malformed(detail: str) -> ValidationError:
    """S3's ``MalformedXML`` error, with what was wrong."""
    return _malformed(detail)


def parse(body: bytes, root_tag: str) -> ElementTree.Element:
    """Parse a request document whose root must be ``root_tag`` (namespaces ignored).

    Raises:
        ValidationError: ``MalformedXML``.
    """
    return _parse(body, root_tag)


def children(element: ElementTree.Element, tag: str) -> list[ElementTree.Element]:
    """The children of ``element`` named ``tag`` (namespaces ignored)."""
    return _children(element, tag)


def text_of(element: ElementTree.Element, tag: str) -> str | None:
    """The text of the first child named ``tag`` ("" if empty), or ``None`` if there is none."""
    return _text(element, tag)


def parse_delete(body: bytes) -> tuple[list[tuple[str, str | None]], bool]:
    """Read a DeleteObjects body: ``<Delete><Object><Key/><VersionId/></Object>…<Quiet/>``.

    Returns:
        The ``(key, version id or None)`` pairs, in order, and whether the client asked for
        quiet mode.

    Raises:
        ValidationError: ``MalformedXML`` for a bad document, no keys or more than 1000.
    """
    root = _parse(body, "Delete")
    keys: list[tuple[str, str | None]] = []
    for item in _children(root, "Object"):
        key = _text(item, "Key")
        if not key:
            raise _malformed("every <Object> needs a non-empty <Key>")
        version = _text(item, "VersionId")
        keys.append((key, version or None))
    if not keys:
        raise _malformed("name at least one <Object>")
    if len(keys) > MAX_DELETE_KEYS:
        raise _malformed(f"at most {MAX_DELETE_KEYS} objects per request, got {len(keys)}")
    quiet = (_text(root, "Quiet") or "").strip().lower() == "true"
    return keys, quiet


def parse_complete_multipart(body: bytes) -> list[tuple[int, str]]:
    """Read a CompleteMultipartUpload body: ``<Part><PartNumber/><ETag/></Part>…``.

    Raises:
        ValidationError: ``MalformedXML`` for a bad document or a part without number or ETag.
    """
    root = _parse(body, "CompleteMultipartUpload")
    parts = []
    for item in _children(root, "Part"):
        number, etag = _text(item, "PartNumber"), _text(item, "ETag")
        if number is None or not number.strip().isdigit() or not etag:
            raise _malformed("every <Part> needs a numeric <PartNumber> and an <ETag>")
        parts.append((int(number), etag.strip()))
    return parts


def parse_create_bucket(body: bytes) -> str | None:
    """Read an optional CreateBucketConfiguration; returns its LocationConstraint, if any.

    Raises:
        ValidationError: ``MalformedXML`` for a bad document.
    """
    if not body.strip():
        return None
    root = _parse(body, "CreateBucketConfiguration")
    return _text(root, "LocationConstraint")
