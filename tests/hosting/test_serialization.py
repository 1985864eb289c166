"""Request and response bodies per content type, and the errors for bad ones."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
import scipy.sparse as sp

from lakeworks.core.errors import UnsupportedMediaType, ValidationError
from lakeworks.hosting.handlers.serialization import (
    CSV,
    JSON,
    JSONLINES,
    NPY,
    RECORDIO,
    decode_csv,
    decode_features,
    encode_array,
    encode_records,
    media_type,
    pick_accept,
)
from lakeworks.training.formats.recordio_protobuf import (
    decode_record,
    iter_recordio,
    write_numpy_to_dense_tensor,
)

ALL = (CSV, JSON, JSONLINES, NPY, RECORDIO)


def test_csv_many_rows_and_missing_cells() -> None:
    rows = decode_csv(b"1,2,3\r\n4,,6\n\n")
    assert rows.shape == (2, 3)
    assert np.isnan(rows[1, 1])
    assert rows[1, 2] == 6


def test_csv_rows_of_different_width_name_the_row() -> None:
    with pytest.raises(ValidationError, match="CSV row 2 has 2 values, but row 1 has 3"):
        decode_csv(b"1,2,3\n4,5\n")


def test_csv_non_number_names_row_and_column() -> None:
    with pytest.raises(ValidationError, match=r"row 2, column 3: 'abc' is not a number"):
        decode_csv(b"1,2,3\n4,5,abc\n")


def test_empty_csv_is_refused() -> None:
    with pytest.raises(ValidationError, match="no rows"):
        decode_csv(b"\n \n")


@pytest.mark.parametrize(
    "body",
    [
        {"instances": [[1, 2], [3, 4]]},
        {"instances": [{"features": [1, 2]}, {"features": [3, 4]}]},
        [[1, 2], [3, 4]],
    ],
)
def test_json_row_forms(body: object) -> None:
    rows = decode_features(json.dumps(body).encode(), JSON, ALL)
    assert np.asarray(rows).tolist() == [[1, 2], [3, 4]]


def test_json_single_row_forms() -> None:
    assert np.asarray(decode_features(b"[1, 2, 3]", JSON, ALL)).shape == (1, 3)
    assert np.asarray(decode_features(b'{"features": [1, 2]}', JSON, ALL)).shape == (1, 2)


def test_json_sparse_rows_become_csr() -> None:
    body = {
        "instances": [
            {"data": {"features": {"keys": [0, 3], "values": [1.5, 2.0], "shape": [4]}}},
            {"data": {"features": {"values": [1, 0, 0, 1]}}},
        ]
    }
    rows = decode_features(json.dumps(body).encode(), JSON, ALL)
    assert sp.issparse(rows)
    assert rows.toarray().tolist() == [[1.5, 0, 0, 2.0], [1, 0, 0, 1]]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "not valid JSON"),
        (b'{"instances": 3}', "must be a list"),
        (b'{"instances": [["a", 1]]}', "expected a list of numbers"),
        (b'{"instances": [[1, 2], [3]]}', "row 2 has 1 values"),
    ],
)
def test_bad_json(body: bytes, message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        decode_features(body, JSON, ALL)


def test_jsonlines() -> None:
    rows = decode_features(b'{"features": [1, 2]}\n[3, 4]\n', JSONLINES, ALL)
    assert np.asarray(rows).tolist() == [[1, 2], [3, 4]]
    with pytest.raises(ValidationError, match="line 2"):
        decode_features(b"[1, 2]\n{oops\n", JSONLINES, ALL)


def test_npy_never_unpickles() -> None:
    buffer = io.BytesIO()
    np.save(buffer, np.array([1.0, 2.0]))
    assert decode_features(buffer.getvalue(), NPY, ALL).shape == (1, 2)
    pickled = io.BytesIO()
    np.save(pickled, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValidationError, match="without objects"):
        decode_features(pickled.getvalue(), NPY, ALL)


def test_recordio_protobuf_in_and_out() -> None:
    buffer = io.BytesIO()
    write_numpy_to_dense_tensor(buffer, np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32))
    rows = decode_features(buffer.getvalue(), RECORDIO, ALL)
    assert np.asarray(rows).tolist() == [[1, 2], [3, 4]]
    out = encode_records([{"score": 0.25, "predicted_label": 1}], RECORDIO)
    (payload,) = list(iter_recordio(out))
    _, label = decode_record(payload)
    assert label["score"].values.tolist() == [0.25]
    assert label["predicted_label"].values.tolist() == [1.0]


def test_unsupported_content_type_is_415() -> None:
    with pytest.raises(UnsupportedMediaType, match="image/png") as caught:
        decode_features(b"x", "image/png", ALL)
    assert caught.value.status == 415


def test_records_in_each_response_format() -> None:
    records = [{"score": 0.5, "predicted_label": 1}, {"score": 0.25, "predicted_label": 0}]
    assert json.loads(encode_records(records, JSON)) == {"predictions": records}
    assert encode_records(records, JSONLINES).decode().splitlines()[1] == json.dumps(records[1])
    assert encode_records(records, CSV) == b"0.5,1\n0.25,0"


def test_accept_negotiation() -> None:
    assert pick_accept(None, (CSV, JSON), CSV) == CSV
    assert pick_accept("*/*", (CSV, JSON), JSON) == JSON
    assert pick_accept("application/json; charset=utf-8", (CSV, JSON), CSV) == JSON
    assert pick_accept("image/png, text/csv", (CSV, JSON), JSON) == CSV
    with pytest.raises(UnsupportedMediaType):
        pick_accept("image/png", (CSV, JSON), CSV)
    assert media_type("Text/CSV; charset=utf-8") == CSV


def test_default_array_encodings() -> None:
    assert encode_array(np.array([1.5, 2.0]), JSON) == b"[1.5, 2.0]"
    assert encode_array(np.array([[1, 2], [3, 4]]), CSV) == b"1,2\n3,4"
    assert np.load(io.BytesIO(encode_array(np.arange(3), NPY))).tolist() == [0, 1, 2]
    with pytest.raises(UnsupportedMediaType):
        encode_array([1], "text/html")


def test_big_csv_bodies_read_the_same_through_the_bulk_reader() -> None:
    rows = np.round(np.random.default_rng(2).random((200, 3)), 5)
    body = "\n".join(",".join(map(str, r)) for r in rows).encode()
    np.testing.assert_array_equal(decode_csv(body), rows)
    with_gap = body + b"\n1,,3"
    assert np.isnan(decode_csv(with_gap)[-1, 1])
    with pytest.raises(ValidationError, match="CSV row 201, column 2: 'x' is not a number"):
        decode_csv(body + b"\n1,x,3")
