"""S3 SelectObjectContent: ``POST /<bucket>/<key>?select&select-type=2``.

The XML request becomes a :class:`~lakeworks.schemas.lake_select.SelectRequest`; the lake's
:func:`~lakeworks.lake.select.select_object` evaluates it (as ``s3:GetObject`` for access).
Errors found before any row is out are ordinary S3 XML errors (400 with S3 Select's code);
the answer is otherwise an event stream (:mod:`.eventstream`): ``Records`` events with the
output, an optional ``Progress`` event, a ``Stats`` event and ``End`` — or an ``error``
message if evaluation fails part-way.
"""

from __future__ import annotations

from collections.abc import Iterator
from xml.etree import ElementTree

from pydantic import ValidationError as PydanticValidationError
from starlette.background import BackgroundTask
from starlette.concurrency import iterate_in_threadpool, run_in_threadpool
from starlette.responses import Response, StreamingResponse

from lakeworks.core.errors import LakeworksError, ValidationError
from lakeworks.lake.select import Selection, select_object
from lakeworks.schemas.lake_select import SelectRequest, SelectStats
from lakeworks.server.aws import s3_xml
from lakeworks.server.aws.eventstream import encode_error, encode_event
from lakeworks.server.aws.s3_routing import object_of
from lakeworks.server.aws.service import AwsCall

__all__ = ["parse_select", "select_object_content"]

_FIELDS = {
    "FileHeaderInfo": "file_header_info",
    "Comments": "comments",
    "QuoteEscapeCharacter": "quote_escape_character",
    "RecordDelimiter": "record_delimiter",
    "FieldDelimiter": "field_delimiter",
    "QuoteCharacter": "quote_character",
    "AllowQuotedRecordDelimiter": "allow_quoted_record_delimiter",
    "QuoteFields": "quote_fields",
    "Type": "type",
}


def _options(element: ElementTree.Element | None) -> dict[str, object] | None:
    """The options of a ``<CSV>``/``<JSON>``/``<Parquet>`` element, snake_cased."""
    if element is None:
        return None
    out: dict[str, object] = {}
    for child in element:
        name = child.tag.rsplit("}", 1)[-1]
        field = _FIELDS.get(name)
        if field is None:
            raise s3_xml.malformed(
                f"unknown element <{name}> in <{element.tag.rsplit('}', 1)[-1]}>"
            )
        text = child.text or ""
        out[field] = text.strip().lower() == "true" if field.startswith("allow") else text
    return out


def _first(element: ElementTree.Element | None, tag: str) -> ElementTree.Element | None:
    if element is None:
        return None
    found = s3_xml.children(element, tag)
    return found[0] if found else None


def _int(element: ElementTree.Element | None, tag: str) -> int | None:
    text = s3_xml.text_of(element, tag) if element is not None else None
    if text is None:
        return None
    try:
        return int(text)
    except ValueError:
        raise ValidationError(
            f"{tag} must be a whole number, got {text!r}", aws_code="InvalidScanRange"
        ) from None


def parse_select(body: bytes) -> SelectRequest:
    """Read a ``<SelectObjectContentRequest>`` document.

    Raises:
        ValidationError: ``MalformedXML``, or ``MissingRequiredParameter`` for a missing part.
    """
    root = s3_xml.parse(body, "SelectObjectContentRequest")
    expression = s3_xml.text_of(root, "Expression")
    source = _first(root, "InputSerialization")
    target = _first(root, "OutputSerialization")
    for name, value in (
        ("Expression", expression),
        ("InputSerialization", source),
        ("OutputSerialization", target),
    ):
        if value is None:
            raise ValidationError(f"{name} is required", aws_code="MissingRequiredParameter")
    scan = _first(root, "ScanRange")
    progress = _first(root, "RequestProgress")
    spec = {
        "expression": expression,
        "expression_type": s3_xml.text_of(root, "ExpressionType") or "SQL",
        "input_serialization": {
            "csv": _options(_first(source, "CSV")),
            "json": _options(_first(source, "JSON")),
            "parquet": _options(_first(source, "Parquet")),
            "compression_type": s3_xml.text_of(source, "CompressionType") or "NONE",  # type: ignore[arg-type]
        },
        "output_serialization": {
            "csv": _options(_first(target, "CSV")),
            "json": _options(_first(target, "JSON")),
        },
        "scan_range": None
        if scan is None
        else {"start": _int(scan, "Start"), "end": _int(scan, "End")},
        "request_progress": (s3_xml.text_of(progress, "Enabled") or "").lower() == "true"
        if progress is not None
        else False,
    }
    try:
        return SelectRequest.model_validate(spec)
    except PydanticValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise s3_xml.malformed(f"{where}: {first['msg']}") from None


def _stats_xml(tag: str, stats: SelectStats) -> bytes:
    root = ElementTree.Element(tag)
    s3_xml.add(root, "BytesScanned", stats.bytes_scanned)
    s3_xml.add(root, "BytesProcessed", stats.bytes_processed)
    s3_xml.add(root, "BytesReturned", stats.bytes_returned)
    return bytes(ElementTree.tostring(root, encoding="utf-8", xml_declaration=True))


def _events(selection: Selection, progress: bool) -> Iterator[bytes]:
    try:
        for chunk in selection.chunks():
            yield encode_event("Records", chunk, "application/octet-stream")
        if progress:
            yield encode_event("Progress", _stats_xml("Progress", selection.stats), "text/xml")
        yield encode_event("Stats", _stats_xml("Stats", selection.stats), "text/xml")
        yield encode_event("End")
    except LakeworksError as exc:
        yield encode_error(exc.aws_code, exc.message)
    finally:
        selection.close()


async def select_object_content(call: AwsCall) -> Response:
    """SelectObjectContent: S3 Select SQL over one object, answered as an event stream."""
    bucket, key = object_of(call)
    if call.request.query.get("select-type", "2") != "2":
        raise ValidationError("select-type must be 2", aws_code="InvalidRequestParameter")
    body = await call.payload.read_all(call.settings.server.max_body_bytes)
    spec = parse_select(body)
    scratch = call.settings.home / "tmp" / "select"
    selection = await run_in_threadpool(
        select_object, call.platform.lake, call.ctx, bucket, key, spec, scratch
    )
    return StreamingResponse(
        iterate_in_threadpool(_events(selection, spec.request_progress)),
        200,
        {"Content-Type": "application/octet-stream"},
        background=BackgroundTask(selection.close),
    )
