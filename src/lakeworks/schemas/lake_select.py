"""Object select (S3 ``SelectObjectContent``): SQL over one CSV, JSON or Parquet object.

Field names are S3's, snake_cased. Values are checked by :mod:`lakeworks.lake.select`, which
answers with S3 Select's error codes (``InvalidFileHeaderInfo``, ``InvalidCompressionFormat``
…), so these shapes only fix the structure.
"""

from __future__ import annotations

from pydantic import Field

from lakeworks.schemas.common import RequestModel, ResponseModel

__all__ = [
    "CsvInput",
    "CsvOutput",
    "InputSerialization",
    "JsonInput",
    "JsonOutput",
    "OutputSerialization",
    "ParquetInput",
    "ScanRange",
    "SelectRequest",
    "SelectResult",
    "SelectStats",
]


class CsvInput(RequestModel):
    """How a CSV object reads: ``file_header_info`` is ``USE``, ``IGNORE`` or ``NONE``;
    rows starting with ``comments`` (S3's default ``#``; ``""`` for none) are skipped."""

    file_header_info: str = "NONE"
    comments: str = "#"
    quote_escape_character: str = '"'
    record_delimiter: str = "\n"
    field_delimiter: str = ","
    quote_character: str = '"'
    allow_quoted_record_delimiter: bool = False


class JsonInput(RequestModel):
    """JSON input: ``LINES`` (one document per line) or ``DOCUMENT``."""

    type: str = "DOCUMENT"


class ParquetInput(RequestModel):
    """Parquet input (no options)."""


class InputSerialization(RequestModel):
    """Exactly one of ``csv``, ``json``, ``parquet``; ``compression_type`` NONE, GZIP, BZIP2."""

    csv: CsvInput | None = None
    json_input: JsonInput | None = Field(default=None, alias="json")
    parquet: ParquetInput | None = None
    compression_type: str = "NONE"

    model_config = RequestModel.model_config | {"populate_by_name": True}


class CsvOutput(RequestModel):
    """CSV output; ``quote_fields`` is ``ASNEEDED`` or ``ALWAYS``."""

    quote_fields: str = "ASNEEDED"
    quote_escape_character: str = '"'
    record_delimiter: str = "\n"
    field_delimiter: str = ","
    quote_character: str = '"'


class JsonOutput(RequestModel):
    """JSON output: one object per record, each followed by ``record_delimiter``."""

    record_delimiter: str = "\n"


class OutputSerialization(RequestModel):
    """Exactly one of ``csv`` or ``json``."""

    csv: CsvOutput | None = None
    json_output: JsonOutput | None = Field(default=None, alias="json")

    model_config = RequestModel.model_config | {"populate_by_name": True}


class ScanRange(RequestModel):
    """Bytes whose records are read: those that *start* in ``[start, end]`` (inclusive)."""

    start: int | None = None
    end: int | None = None


class SelectRequest(RequestModel):
    """One select: an S3 Select SQL ``expression`` over the object, and its serializations."""

    expression: str
    expression_type: str = "SQL"
    input_serialization: InputSerialization
    output_serialization: OutputSerialization
    scan_range: ScanRange | None = None
    request_progress: bool = False


class SelectStats(ResponseModel):
    """Bytes read from the store, after decompression, and written out."""

    bytes_scanned: int = 0
    bytes_processed: int = 0
    bytes_returned: int = 0


class SelectResult(ResponseModel):
    """A select's output (native face): the serialized records and the statistics."""

    records: str
    stats: SelectStats
