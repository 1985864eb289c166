"""Data formats as Glue records them: InputFormat, OutputFormat, SerDe and table parameters.

A crawler (or ``CREATE EXTERNAL TABLE``) writes a storage descriptor with the strings Glue
writes, so Athena-minded tools recognise the tables; the SQL engine reads the descriptor back
into a :class:`DataFormat` that says how DuckDB must read the files.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from lakeworks.core.errors import ValidationError
from lakeworks.schemas.catalog import SerDeInfo, StorageDescriptor, TableColumn

__all__ = [
    "JSON_SERDE",
    "LAZY_SIMPLE_SERDE",
    "OPEN_CSV_SERDE",
    "PARQUET_SERDE",
    "DataFormat",
    "descriptor_for",
    "format_of",
    "table_parameters",
]

TEXT_INPUT = "org.apache.hadoop.mapred.TextInputFormat"
TEXT_OUTPUT = "org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat"
PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
LAZY_SIMPLE_SERDE = "org.apache.hadoop.hive.serde2.lazy.LazySimpleSerDe"
OPEN_CSV_SERDE = "org.apache.hadoop.hive.serde2.OpenCSVSerde"
JSON_SERDE = "org.openx.data.jsonserde.JsonSerDe"
HCATALOG_JSON_SERDE = "org.apache.hive.hcatalog.data.JsonSerDe"
PARQUET_SERDE = "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe"

Kind = Literal["csv", "json", "parquet"]
_HIVE_DEFAULT_DELIMITER = "\x01"


@dataclass(frozen=True)
class DataFormat:
    """How a table's files are read.

    Attributes:
        kind: ``csv`` (any delimited text), ``json`` (JSON lines) or ``parquet``.
        delimiter: Field separator of delimited text.
        quote: Quote character (OpenCSVSerde), or ``None`` when fields are not quoted.
        escape: Escape character, if any.
        header_lines: Lines to skip at the top of each file (``skip.header.line.count``).
        compression: ``none``, ``gzip``, … (informational; DuckDB detects it per file).
    """

    kind: Kind
    delimiter: str = ","
    quote: str | None = None
    escape: str | None = None
    header_lines: int = 0
    compression: str = "none"


def descriptor_for(fmt: DataFormat, columns: list[TableColumn], location: str) -> StorageDescriptor:
    """The storage descriptor Glue's crawler writes for files of format ``fmt``."""
    if fmt.kind == "parquet":
        serde = SerDeInfo(
            serialization_library=PARQUET_SERDE, parameters={"serialization.format": "1"}
        )
        return StorageDescriptor(
            columns=columns,
            location=location,
            input_format=PARQUET_INPUT,
            output_format=PARQUET_OUTPUT,
            serde_info=serde,
            compressed=False,
        )
    if fmt.kind == "json":
        serde = SerDeInfo(serialization_library=JSON_SERDE, parameters={"paths": _paths(columns)})
    elif fmt.quote is not None:
        params = {"separatorChar": fmt.delimiter, "quoteChar": fmt.quote}
        if fmt.escape:
            params["escapeChar"] = fmt.escape
        serde = SerDeInfo(serialization_library=OPEN_CSV_SERDE, parameters=params)
    else:
        serde = SerDeInfo(
            serialization_library=LAZY_SIMPLE_SERDE, parameters={"field.delim": fmt.delimiter}
        )
    return StorageDescriptor(
        columns=columns,
        location=location,
        input_format=TEXT_INPUT,
        output_format=TEXT_OUTPUT,
        serde_info=serde,
        compressed=fmt.compression != "none",
    )


def _paths(columns: list[TableColumn]) -> str:
    return ",".join(column.name for column in columns)


def table_parameters(fmt: DataFormat) -> dict[str, str]:
    """The table parameters Glue's crawler sets for format ``fmt`` (``classification``…)."""
    params = {
        "classification": fmt.kind,
        "compressionType": fmt.compression,
        "typeOfData": "file",
    }
    if fmt.kind == "csv":
        params.update(
            delimiter=fmt.delimiter,
            areColumnsQuoted=str(fmt.quote is not None).lower(),
            columnsOrdered="true",
        )
        if fmt.header_lines:
            params["skip.header.line.count"] = str(fmt.header_lines)
    return params


def _header_lines(parameters: dict[str, Any]) -> int:
    raw = parameters.get("skip.header.line.count", "0")
    try:
        count = int(raw)
    except (TypeError, ValueError):
        count = -1
    if count < 0:
        raise ValidationError(
            f"Table parameter skip.header.line.count must be a non-negative integer, got {raw!r}",
            aws_code="InvalidInputException",
        )
    return count


def _one_char(value: str | None, what: str, default: str | None) -> str | None:
    if value is None or value == "":
        return default
    decoded = value.encode("latin-1", "backslashreplace").decode("unicode_escape")
    if len(decoded) != 1:
        raise ValidationError(
            f"The {what} must be a single character, got {value!r}",
            aws_code="InvalidInputException",
        )
    return decoded


def format_of(descriptor: StorageDescriptor, parameters: dict[str, str]) -> DataFormat:
    """Read how to read a table's files from its storage descriptor and parameters.

    Raises:
        ValidationError: A SerDe or format Lakeworks cannot read (it reads delimited text,
            JSON lines and Parquet).
    """
    serde = descriptor.serde_info or SerDeInfo()
    library = serde.serialization_library or ""
    serde_params = serde.parameters
    classification = parameters.get("classification", "").lower()
    input_format = (descriptor.input_format or "").lower()
    compression = parameters.get("compressionType", "none")
    if library == PARQUET_SERDE or "parquet" in input_format or classification == "parquet":
        return DataFormat("parquet")
    if library in (JSON_SERDE, HCATALOG_JSON_SERDE) or classification == "json":
        return DataFormat("json", compression=compression)
    header = _header_lines(parameters)
    if library == OPEN_CSV_SERDE:
        return DataFormat(
            "csv",
            delimiter=_one_char(serde_params.get("separatorChar"), "separatorChar", ",") or ",",
            quote=_one_char(serde_params.get("quoteChar"), "quoteChar", '"'),
            escape=_one_char(serde_params.get("escapeChar"), "escapeChar", "\\"),
            header_lines=header,
            compression=compression,
        )
    if library == LAZY_SIMPLE_SERDE or classification == "csv" or (not library and input_format):
        delimiter = serde_params.get("field.delim") or parameters.get("delimiter")
        return DataFormat(
            "csv",
            delimiter=_one_char(delimiter, "field delimiter", _HIVE_DEFAULT_DELIMITER) or ",",
            escape=_one_char(serde_params.get("escape.delim"), "escape character", None),
            header_lines=header,
            compression=compression,
        )
    raise ValidationError(
        f"Lakeworks cannot read tables stored with SerDe {library!r} "
        f"(classification {classification!r}); it reads delimited text (LazySimpleSerDe, "
        "OpenCSVSerde), JSON lines (JsonSerDe) and Parquet",
        aws_code="InvalidInputException",
    )
