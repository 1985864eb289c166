"""Batch transform's pure record handling: splitting, batching, JSONPath, join, assembly."""

from __future__ import annotations

import io
import json
import struct

import numpy as np
import pytest

from lakeworks.core.errors import ValidationError
from lakeworks.hosting.batch.records import (
    MB,
    Batch,
    RecordError,
    assemble,
    batches,
    compile_path,
    filter_record,
    join_record,
    line_batches,
    payload,
    plain_lines,
    split_records,
    split_response,
)


def _recordio(payloads: list[bytes], flags: list[int] | None = None) -> bytes:
    out = b""
    for index, data in enumerate(payloads):
        flag = flags[index] if flags else 0
        out += struct.pack("<II", 0xCED7230A, len(data) | flag << 29) + data
        out += b"\x00" * (-len(data) % 4)
    return out


def _tfrecord(payloads: list[bytes]) -> bytes:
    return b"".join(struct.pack("<Q", len(d)) + b"\x00" * 4 + d + b"\x00" * 4 for d in payloads)


def test_line_split_drops_blank_lines_and_carriage_returns() -> None:
    assert split_records(b"1,2\r\n\n3,4\n", "Line") == [b"1,2", b"3,4"]
    assert split_records(b"whole\nobject", "None") == [b"whole\nobject"]
    assert split_records(b"", "None") == []


def test_recordio_frames_stay_whole_and_multipart_records_stay_together() -> None:
    data = _recordio([b"abc", b"defgh", b"x", b"y"], [0, 0, 1, 3])
    records = split_records(data, "RecordIO")
    assert len(records) == 3
    assert b"".join(records) == data
    assert records[0] == _recordio([b"abc"])
    with pytest.raises(RecordError, match="no record magic at byte 0"):
        split_records(b"\x00" * 8, "RecordIO")
    with pytest.raises(RecordError, match="cut short"):
        split_records(data[:-4], "RecordIO")


def test_recordio_written_by_the_sagemaker_sdk_splits_per_row() -> None:
    common = pytest.importorskip("sagemaker.amazon.common")
    buffer = io.BytesIO()
    common.write_numpy_to_dense_tensor(buffer, np.ones((5, 3), dtype="float32"))
    assert len(split_records(buffer.getvalue(), "RecordIO")) == 5


def test_tfrecord_frames() -> None:
    data = _tfrecord([b"one", b"three"])
    assert split_records(data, "TFRecord") == [data[:19], data[19:]]
    with pytest.raises(RecordError, match="TFRecord"):
        split_records(data[:-1], "TFRecord")


def test_multirecord_packs_up_to_the_payload_limit() -> None:
    sizes = [4, 4, 4, 4, 4]
    # 4 + 1 + 4 = 9 bytes fit in 10; a third record (14 bytes) does not.
    got = list(batches(sizes, "MultiRecord", 10, "Line", "in.csv"))
    assert got == [Batch(0, 2), Batch(2, 4), Batch(4, 5)]
    assert list(batches(sizes, "SingleRecord", 10, "Line", "in.csv"))[1] == Batch(1, 2)
    assert list(batches(sizes, "MultiRecord", 0, "Line", "in.csv")) == [Batch(0, 5)]
    assert payload([b"a", b"b"], "Line") == b"a\nb"


@pytest.mark.parametrize("limit", [0, 7, 20, 64])
def test_line_batches_cut_the_bytes_as_batches_packs_the_records(limit: int) -> None:
    rng = np.random.default_rng(limit)
    data = b"\n".join(b"x" * int(n) for n in rng.integers(1, 8, 40)) + b"\n"
    assert plain_lines(data)
    records = split_records(data, "Line")
    expected = [
        (b.start, b.stop - b.start, payload(records[b.start : b.stop], "Line"))
        for b in batches([len(r) for r in records], "MultiRecord", limit, "Line", "in")
    ]
    assert list(line_batches(data, limit, "in")) == expected
    assert not plain_lines(b"a\r\nb")
    assert not plain_lines(b"a\n\nb")
    with pytest.raises(RecordError, match="Record 2 of in is 9 bytes"):
        list(line_batches(b"ab\n" + b"y" * 9 + b"\nc", 8, "in"))
    assert payload([b"a", b"b"], "RecordIO") == b"ab"


def test_a_record_over_max_payload_fails_naming_the_record() -> None:
    with pytest.raises(RecordError) as caught:
        list(batches([10, 2 * MB, 10], "SingleRecord", MB, "Line", "s3://b/in.csv"))
    message = str(caught.value)
    assert "Record 2 of s3://b/in.csv" in message
    assert "MaxPayloadInMB (1 MB" in message


@pytest.mark.parametrize(
    ("expression", "value", "expected"),
    [
        ("$", [1, 2], [1, 2]),
        ("$[1:]", ["id", "a", "b"], ["a", "b"]),
        ("$[0,2]", ["x", "y", "z"], ["x", "z"]),
        ("$[-1]", ["x", "y", "z"], "z"),
        ("$[:2]", ["x", "y", "z"], ["x", "y"]),
        ("$.features", {"features": [1, 2], "id": 3}, [1, 2]),
        ("$['id','score']", {"id": 1, "score": 2, "x": 0}, [1, 2]),
        ("$.data[0:2]", {"data": [5, 6, 7]}, [5, 6]),
        ("$.a.b", {"a": {"b": 9}}, 9),
        ("$[*]", {"a": 1, "b": 2}, [1, 2]),
    ],
)
def test_jsonpath_subset(expression: str, value: object, expected: object) -> None:
    assert compile_path(expression)(value) == expected


@pytest.mark.parametrize("expression", ["features", "$..x", "$[1:2:3]", "$[a]", "$.", "$[?(@.x)]"])
def test_bad_jsonpath_is_a_validation_error_listing_what_is_allowed(expression: str) -> None:
    with pytest.raises(ValidationError, match=r"Invalid JSONPath .*\$\[1:\]"):
        compile_path(expression)


def test_filters_on_csv_and_json_records() -> None:
    drop_id = compile_path("$[1:]")
    assert filter_record(b"7,1.5,2.5", "csv", drop_id, "record 1") == b"1.5,2.5"
    pick = compile_path("$.features")
    assert filter_record(b'{"id":1,"features":[1,2]}', "json", pick, "record 1") == b"[1,2]"
    with pytest.raises(RecordError, match=r"record 3: .*'features' is not in the record"):
        filter_record(b'{"id":1}', "json", pick, "record 3")


def test_join_appends_the_answer_to_the_input_record() -> None:
    assert join_record(b"7,1,2", b"0.9", "csv", "csv", "r") == b"7,1,2,0.9"
    joined = json.loads(join_record(b'{"id":7}', b'{"score":0.9}', "json", "json", "r"))
    assert joined == {"id": 7, "SageMakerOutput": {"score": 0.9}}
    assert json.loads(join_record(b"[1,2]", b"0.5", "json", "csv", "r")) == [1, 2, "0.5"]


def test_split_response_per_record() -> None:
    assert split_response(b"0.1\n0.2\n", "csv", 2, "r") == [b"0.1", b"0.2"]
    assert split_response(b"0.1,0.2,0.3", "csv", 3, "r") == [b"0.1", b"0.2", b"0.3"]
    body = json.dumps({"predictions": [{"score": 1}, {"score": 2}]}).encode()
    assert split_response(body, "json", 2, "r") == [b'{"score":1}', b'{"score":2}']
    with pytest.raises(RecordError, match="answered 1 lines for 3 records"):
        split_response(b"0.1,0.2", "csv", 3, "r")


def test_assemble_line_puts_a_newline_after_each_part() -> None:
    assert assemble([b"a", b"b\n"], "Line") == b"a\nb\n"
    assert assemble([b"a", b"b"], "None") == b"ab"
