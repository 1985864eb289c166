"""Input formats: CSV, libsvm, Parquet, RecordIO-protobuf and channel reading."""

from __future__ import annotations

import gzip
import io
import struct
from pathlib import Path

import numpy as np
import pytest
import scipy.sparse as sp

from lakeworks.core.errors import ValidationError
from lakeworks.training.formats import (
    CSV,
    LIBSVM,
    PARQUET,
    RECORDIO_PROTOBUF,
    ContentType,
    parse_content_type,
    read_channel,
)
from lakeworks.training.formats.csv import read_csv
from lakeworks.training.formats.libsvm import read_libsvm
from lakeworks.training.formats.parquet import read_parquet, write_parquet
from lakeworks.training.formats.recordio_protobuf import (
    MAGIC,
    decode_record,
    encode_record,
    iter_recordio,
    read_recordio_protobuf,
    write_numpy_to_dense_tensor,
    write_recordio,
    write_spmatrix_to_sparse_tensor,
)

DATA = Path(__file__).parent / "data"
#: What tests/training/data/*.pbr hold: written by sagemaker 2.257's
#: sagemaker.amazon.common.write_numpy_to_dense_tensor / write_spmatrix_to_sparse_tensor.
GOLDEN_X = np.array(
    [
        [0.001, 0.299, -0.274],
        [-0.891, -0.455, -0.992],
        [0.06, 1.34, -0.492],
        [-0.62, 0.49, 0.357],
        [0.105, -0.93, -0.029],
        [0.695, -1.344, -0.458],
    ]
)
GOLDEN_Y = np.array([0.0, 1.0, 2.0, 1.0, 0.0, 3.0])
GOLDEN_SPARSE = np.array([[0, 1.5, 0, 0], [0, 0, 0, 0], [2.0, 0, 0, -1.0]], dtype=np.float32)
ALL_TYPES = (CSV, LIBSVM, PARQUET, RECORDIO_PROTOBUF)

# -- CSV ----------------------------------------------------------------------------------------


def test_csv_label_first_then_features() -> None:
    data = read_csv(b"1,0.5,2\n0,1.5,-3e2\r\n\n", source="t.csv")
    assert data is not None
    np.testing.assert_array_equal(data.features, [[0.5, 2.0], [1.5, -300.0]])
    np.testing.assert_array_equal(data.labels, [1.0, 0.0])
    assert data.weights is None


def test_csv_without_label_and_with_weights() -> None:
    unlabelled = read_csv(b"1,2\n3,4\n", source="t.csv", label_size=0)
    assert unlabelled is not None
    assert unlabelled.labels is None
    np.testing.assert_array_equal(unlabelled.features, [[1, 2], [3, 4]])
    weighted = read_csv(b"1,0.5,7,8\n", source="t.csv", weight_column=True)
    assert weighted is not None
    np.testing.assert_array_equal(weighted.weights, [0.5])
    np.testing.assert_array_equal(weighted.features, [[7, 8]])


def test_csv_header_row_is_an_error_naming_row_and_column() -> None:
    with pytest.raises(ValidationError) as caught:
        read_csv(b"price,size\n1,2\n", source="train/a.csv")
    assert caught.value.message == (
        "train/a.csv row 1, column 1: 'price' is not a number (CSV input has no header row)"
    )


def test_csv_non_numeric_cell_names_row_and_column() -> None:
    with pytest.raises(ValidationError, match=r"a.csv row 3, column 2: 'abc' is not a number$"):
        read_csv(b"1,2\n3,4\n5,abc\n", source="a.csv")


def test_csv_ragged_rows_are_an_error() -> None:
    with pytest.raises(ValidationError, match=r"a.csv row 2: 3 columns, but row 1 has 2"):
        read_csv(b"1,2\n3,4,5\n", source="a.csv")


def test_csv_empty_cell_is_missing_and_only_tree_learners_accept_it() -> None:
    data = read_csv(b"1,2,3\n4,,6\n", source="a.csv")
    assert data is not None
    assert np.isnan(data.features[1, 0])
    data.check_finite("train", allow_missing=True)
    with pytest.raises(ValidationError, match=r"a.csv row 2, column 2: a missing value"):
        data.check_finite("train", allow_missing=False)


def test_csv_needs_a_feature_column_and_utf8() -> None:
    with pytest.raises(ValidationError, match="at least one feature column"):
        read_csv(b"1\n2\n", source="a.csv")
    with pytest.raises(ValidationError, match="not UTF-8"):
        read_csv(b"1,\xff\n", source="a.csv")
    assert read_csv(b"\n\n", source="a.csv") is None


# -- libsvm -------------------------------------------------------------------------------------


def test_libsvm_sparse_rows_with_weights_qid_and_comments() -> None:
    text = b"1:0.5 0:1 2:3 # first\n0 qid:4 1:-2\n\n# only a comment\n2 3:1\n"
    data = read_libsvm(text, source="a.libsvm")
    assert data is not None
    assert data.is_sparse
    np.testing.assert_array_equal(data.dense(), [[1, 0, 3, 0], [0, -2, 0, 0], [0, 0, 0, 1]])
    np.testing.assert_array_equal(data.labels, [1, 0, 2])
    np.testing.assert_array_equal(data.weights, [0.5, 1, 1])
    # Absent entries are missing, not stored zeros.
    assert data.features.nnz == 4


def test_libsvm_bad_token_names_the_line() -> None:
    with pytest.raises(ValidationError, match=r"a.libsvm line 2: 'x:1' is not 'index:value'"):
        read_libsvm(b"1 0:1\n0 x:1\n", source="a.libsvm")
    with pytest.raises(ValidationError, match=r"line 1: 'one' is not a number \(label\)"):
        read_libsvm(b"one 0:1\n", source="a.libsvm")


def test_libsvm_files_of_different_widths_line_up(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(b"1 0:1\n")
    (tmp_path / "b").write_bytes(b"0 4:2\n")
    data = read_channel(tmp_path, channel="train", content_type=ContentType(LIBSVM), label_size=1)
    np.testing.assert_array_equal(data.dense(), [[1, 0, 0, 0, 0], [0, 0, 0, 0, 2]])


# -- Parquet ------------------------------------------------------------------------------------


def test_parquet_label_first() -> None:
    X = np.array([[1.0, 2.0], [3.0, np.nan]])
    data = read_parquet(write_parquet(X, np.array([0.0, 1.0])), source="a.parquet")
    assert data is not None
    np.testing.assert_array_equal(data.labels, [0, 1])
    np.testing.assert_array_equal(data.features[0], [1, 2])
    assert np.isnan(data.features[1, 1])


def test_parquet_rejects_text_columns_and_garbage() -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    sink = io.BytesIO()
    pq.write_table(pa.table({"y": [1.0], "city": ["Oslo"]}), sink)
    with pytest.raises(ValidationError, match=r"column 2 \('city'\) has type string"):
        read_parquet(sink.getvalue(), source="a.parquet")
    with pytest.raises(ValidationError, match="not a readable Parquet file"):
        read_parquet(b"not parquet", source="a.parquet")


# -- RecordIO-protobuf --------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["dense_float64.pbr", "dense_float32.pbr"])
def test_recordio_reads_what_the_sagemaker_sdk_writes(name: str) -> None:
    data = read_recordio_protobuf((DATA / name).read_bytes(), source=name)
    assert data is not None
    assert not data.is_sparse
    dtype = np.float32 if "32" in name else np.float64
    np.testing.assert_array_equal(data.features, GOLDEN_X.astype(dtype).astype(np.float64))
    np.testing.assert_array_equal(data.labels, GOLDEN_Y)


def test_recordio_int_tensors_without_labels_and_sparse_tensors() -> None:
    ints = read_recordio_protobuf((DATA / "dense_int_nolabel.pbr").read_bytes(), source="i")
    assert ints is not None
    assert ints.labels is None
    np.testing.assert_array_equal(ints.features, [[1, -2, 3], [4, 5, -6]])
    sparse = read_recordio_protobuf((DATA / "sparse_float32.pbr").read_bytes(), source="s")
    assert sparse is not None
    assert sparse.is_sparse
    np.testing.assert_array_equal(sparse.dense(), GOLDEN_SPARSE)
    np.testing.assert_array_equal(sparse.labels, [1, 0, 1])


def test_recordio_writer_produces_the_sdk_bytes() -> None:
    cases = {
        "dense_float64.pbr": (GOLDEN_X, GOLDEN_Y),
        "dense_float32.pbr": (GOLDEN_X.astype(np.float32), GOLDEN_Y.astype(np.float32)),
        "dense_int_nolabel.pbr": (np.array([[1, -2, 3], [4, 5, -6]]), None),
    }
    for name, (X, y) in cases.items():
        out = io.BytesIO()
        write_numpy_to_dense_tensor(out, X, y)
        assert out.getvalue() == (DATA / name).read_bytes(), name
    out = io.BytesIO()
    write_spmatrix_to_sparse_tensor(
        out, sp.csr_matrix(GOLDEN_SPARSE), np.array([1.0, 0.0, 1.0], dtype=np.float32)
    )
    assert out.getvalue() == (DATA / "sparse_float32.pbr").read_bytes()


def test_recordio_splits_and_joins_records_that_contain_the_magic_word() -> None:
    magic = struct.pack("<I", MAGIC)
    payload = b"abcd" + magic + b"efgh" + magic + b"xy"
    out = io.BytesIO()
    write_recordio(out, payload)
    framed = out.getvalue()
    # Three parts: cflag 1 (start), 2 (middle), 3 (end); no part contains the magic word.
    flags = []
    position = 0
    while position < len(framed):
        _magic, lrec = struct.unpack_from("<II", framed, position)
        flags.append(lrec >> 29)
        position += 8 + ((lrec & ((1 << 29) - 1)) + 3) // 4 * 4
    assert flags == [1, 2, 3]
    assert list(iter_recordio(framed)) == [payload]


def test_recordio_accepts_unpacked_repeated_fields() -> None:
    # features["values"] = Float32Tensor with values 1.5 and -2 written one field at a time.
    tensor = b"".join(b"\x0d" + struct.pack("<f", v) for v in (1.5, -2.0))
    value = b"\x12" + bytes([len(tensor)]) + tensor
    entry = b"\x0a\x06values" + b"\x12" + bytes([len(value)]) + value
    record = b"\x0a" + bytes([len(entry)]) + entry
    features, label = decode_record(record)
    np.testing.assert_array_equal(features["values"].values, [1.5, -2.0])
    assert label == {}
    assert decode_record(encode_record(np.array([1.5, -2.0])))[0]["values"].keys is None


def test_recordio_errors_name_the_position() -> None:
    with pytest.raises(ValidationError, match=r"a.pbr byte 0: not a RecordIO record"):
        read_recordio_protobuf(b"1,2,3\n", source="a.pbr")
    good = (DATA / "dense_float64.pbr").read_bytes()
    with pytest.raises(ValidationError, match="truncated RecordIO record"):
        read_recordio_protobuf(good[:-9], source="a.pbr")
    out = io.BytesIO()
    write_recordio(out, encode_record(np.array([1.0, 2.0]), np.array([1.0])))
    write_recordio(out, encode_record(np.array([1.0, 2.0])))
    with pytest.raises(ValidationError, match="1 of 2 records have a label"):
        read_recordio_protobuf(out.getvalue(), source="a.pbr")
    out = io.BytesIO()
    write_recordio(out, encode_record(np.array([1.0, 2.0])))
    write_recordio(out, encode_record(np.array([1.0, 2.0, 3.0])))
    with pytest.raises(ValidationError, match="record 2: 3 feature values, but record 1 has 2"):
        read_recordio_protobuf(out.getvalue(), source="a.pbr", label_size=0)
    out = io.BytesIO()
    write_recordio(out, b"\x0a\x03abc")
    with pytest.raises(ValidationError, match=r"a.pbr record 1"):
        read_recordio_protobuf(out.getvalue(), source="a.pbr")


# -- channels -----------------------------------------------------------------------------------


def test_content_types_follow_aws_spellings_and_parameters() -> None:
    assert parse_content_type("text/csv;label_size=0", allowed=ALL_TYPES) == ContentType(CSV, 0)
    assert parse_content_type("libsvm", allowed=ALL_TYPES) == ContentType(LIBSVM)
    assert parse_content_type("text/x-libsvm", allowed=ALL_TYPES).media_type == LIBSVM
    assert parse_content_type("application/x-parquet", allowed=ALL_TYPES).media_type == PARQUET
    with pytest.raises(ValidationError, match="not supported by this algorithm; use one of"):
        parse_content_type("text/libsvm", allowed=(CSV, RECORDIO_PROTOBUF))
    with pytest.raises(ValidationError, match="label_size must be 0"):
        parse_content_type("text/csv;label_size=2", allowed=ALL_TYPES)


def test_channel_reads_files_in_order_gzip_and_skips_markers(tmp_path: Path) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "a.csv").write_bytes(b"1,1\n")
    (tmp_path / "b" / "c.csv.gz").write_bytes(gzip.compress(b"2,2\n3,3\n"))
    (tmp_path / "_SUCCESS").write_bytes(b"")
    (tmp_path / ".hidden").write_bytes(b"garbage")
    data = read_channel(tmp_path, channel="train", content_type=ContentType(CSV), label_size=1)
    np.testing.assert_array_equal(data.labels, [1, 2, 3])
    assert [name for name, _rows in data.parts] == ["train/a.csv", "train/b/c.csv.gz"]
    assert data.locate(2) == ("train/b/c.csv.gz", 2)


def test_channel_errors(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match=r"No data in channel 'train'.*has no files"):
        read_channel(tmp_path, channel="train", content_type=ContentType(CSV), label_size=1)
    (tmp_path / "empty.csv").write_bytes(b"")
    with pytest.raises(ValidationError, match="only empty files"):
        read_channel(tmp_path, channel="train", content_type=ContentType(CSV), label_size=1)
    (tmp_path / "a.csv").write_bytes(b"1,1\n")
    (tmp_path / "b.csv").write_bytes(b"1,1,1\n")
    with pytest.raises(ValidationError, match="has 2 feature columns but"):
        read_channel(tmp_path, channel="train", content_type=ContentType(CSV), label_size=1)
    (tmp_path / "b.csv").write_bytes(b"not gzip")
    with pytest.raises(ValidationError, match="CompressionType is Gzip but not gzip data"):
        read_channel(
            tmp_path, channel="train", content_type=ContentType(CSV), label_size=1, gzipped=True
        )
