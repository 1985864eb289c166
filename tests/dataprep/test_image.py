"""Image operations and MXNet RecordIO packs: byte framing, round trips, corrupt images."""

from __future__ import annotations

import io
import shutil
import struct
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from lakeworks.core.errors import ValidationError
from lakeworks.dataprep.image import ops
from lakeworks.dataprep.image.recordio import (
    IR_SIZE,
    MAGIC,
    IRHeader,
    ListEntry,
    make_list,
    open_image_record,
    pack_header,
    pack_images,
    read_idx,
    read_lst,
    read_records,
    unpack_header,
    unpack_images,
    write_lst,
    write_record,
)
from lakeworks.testing.datasets import book_dataset

BOOK = book_dataset()
PUPPY = BOOK / "puppy.jpg"
BOOK_IMAGES = BOOK / "pcb-blind-test"
MAGIC_BYTES = struct.pack("<I", MAGIC)


def picture(width: int = 64, height: int = 48, seed: int = 0) -> Image.Image:
    rng = np.random.default_rng(seed)
    return Image.fromarray(rng.integers(0, 255, (height, width, 3), dtype=np.uint8), "RGB")


def png_bytes(image: Image.Image) -> bytes:
    out = io.BytesIO()
    image.save(out, format="PNG")
    return out.getvalue()


# -- operations -----------------------------------------------------------------------------


def test_geometry_operations() -> None:
    image = picture(64, 48)
    assert ops.resize(image, [32, 16]).size == (32, 16)
    assert ops.resize(image, [32, 32], keep_aspect=True).size == (32, 24)
    assert ops.crop(image, [4, 4, 20, 12]).size == (16, 8)
    assert ops.center_crop(image, [10, 10]).size == (10, 10)
    turned = ops.rotate(image, 90)
    assert turned.size == (48, 64)
    assert np.array_equal(np.asarray(ops.rotate(turned, -90)), np.asarray(image))
    assert ops.rotate(image, 30).size[0] > 64  # the canvas grows to fit
    assert np.array_equal(np.asarray(ops.flip(ops.flip(image))), np.asarray(image))
    assert ops.grayscale(image).mode == "L"
    with pytest.raises(ValidationError, match="does not fit inside the 64×48 image"):
        ops.crop(image, [0, 0, 65, 10])


def test_tiles_cover_the_image() -> None:
    image = picture(64, 48)
    tiles = ops.tile(image, [16, 16])
    assert len(tiles) == 4 * 3
    assert tiles[5][0] == (16, 16)
    assert np.array_equal(np.asarray(tiles[5][1]), np.asarray(image)[16:32, 16:32])
    padded = ops.tile(image, [20, 20], pad=True)
    assert len(padded) == 4 * 3
    assert all((t.size == (20, 20) for _, t in padded))
    assert len(ops.tile(image, [32, 32], stride=[16, 16])) == 3 * 2


def test_normalize_per_channel() -> None:
    image = picture(8, 4)
    array = ops.normalize(image, mean=[0.5, 0.5, 0.5], std=[0.25, 0.25, 0.25])
    expected = (np.asarray(image, dtype=np.float32) / 255 - 0.5) / 0.25
    assert array.dtype == np.float32
    assert array.shape == (4, 8, 3)
    np.testing.assert_allclose(array, expected, rtol=1e-6)
    assert ops.normalize(ops.grayscale(image)).shape == (4, 8, 1)
    with pytest.raises(ValidationError, match="needs 1 or 3 values"):
        ops.normalize(image, mean=[0.1, 0.2])


def test_ops_as_data_say_what_is_allowed() -> None:
    image = picture()
    out = ops.apply_ops(image, [{"op": "resize", "size": [32, 32]}, {"op": "grayscale"}])
    assert out.size == (32, 32)
    assert out.mode == "L"
    with pytest.raises(ValidationError, match="unknown op 'blur'; allowed: \\['center_crop'"):
        ops.apply_ops(image, [{"op": "blur"}])
    with pytest.raises(ValidationError, match="unknown arguments \\['width'\\]"):
        ops.apply_ops(image, [{"op": "resize", "width": 3}])
    with pytest.raises(ValidationError, match="needs \\['size'\\]"):
        ops.apply_ops(image, [{"op": "resize"}])


def test_the_book_puppy() -> None:
    image = ops.load_image(PUPPY.read_bytes(), "puppy.jpg")
    assert image.size == (1920, 1280)
    small = ops.apply_ops(image, [{"op": "resize", "size": [224, 224], "keep_aspect": True}])
    assert small.size == (224, 149)
    assert len(ops.tile(image, [640, 640])) == 3 * 2


def test_corrupt_bytes_are_a_clear_error() -> None:
    good = PUPPY.read_bytes()
    with pytest.raises(ValidationError, match=r"broken.jpg is not a readable image"):
        ops.load_image(good[: len(good) // 3], "broken.jpg")
    with pytest.raises(ValidationError, match=r"notes.txt is not a readable image"):
        ops.load_image(b"just some text", "notes.txt")


# -- RecordIO byte format -------------------------------------------------------------------


def test_record_framing_is_dmlc_recordio() -> None:
    stream = io.BytesIO()
    write_record(stream, b"abcde")
    raw = stream.getvalue()
    # magic, lrecord (cflag 0, length 5), data, 3 bytes of zero padding
    assert raw == MAGIC_BYTES + struct.pack("<I", 5) + b"abcde" + b"\0\0\0"
    assert raw[:4] == bytes.fromhex("0a23d7ce")


def test_records_containing_the_magic_are_split_and_rejoined() -> None:
    data = b"head" + MAGIC_BYTES + b"middle!!" + MAGIC_BYTES + b"tail"
    stream = io.BytesIO()
    write_record(stream, data)
    raw = stream.getvalue()
    flags = []
    position = 0
    while position < len(raw):
        magic, lrecord = struct.unpack_from("<II", raw, position)
        assert magic == MAGIC
        length = lrecord & ((1 << 29) - 1)
        flags.append((lrecord >> 29, length))
        position += 8 + length + (-length) % 4
    assert flags == [(1, 4), (2, 8), (3, 4)]
    stream.seek(0)
    assert [record for _, record in read_records(stream)] == [data]


def test_image_header_layout() -> None:
    packed = pack_header(IRHeader(0, 3.0, 17, 0), b"IMG")
    assert IR_SIZE == 24
    assert packed[:IR_SIZE] == struct.pack("<IfQQ", 0, 3.0, 17, 0)
    assert unpack_header(packed) == (IRHeader(0, 3.0, 17, 0), b"IMG")
    multi = pack_header(IRHeader(2, (1.0, 0.5), 4, 0), b"IMG")
    assert multi[:IR_SIZE] == struct.pack("<IfQQ", 2, 0.0, 4, 0)
    assert multi[IR_SIZE : IR_SIZE + 8] == struct.pack("<2f", 1.0, 0.5)
    assert unpack_header(multi) == (IRHeader(2, (1.0, 0.5), 4, 0), b"IMG")


def test_broken_framing_names_the_offset() -> None:
    stream = io.BytesIO()
    write_record(stream, b"abcd")
    stream.write(b"garbage!")
    stream.seek(0)
    with pytest.raises(ValidationError, match="not a RecordIO record at byte 12"):
        list(read_records(stream))


def test_list_files_round_trip() -> None:
    entries = [ListEntry(0, (1.0,), "a/x.jpg"), ListEntry(7, (0.0, 2.5), "b/y.png")]
    text = write_lst(entries)
    assert text.splitlines()[0] == "0\t1.000000\ta/x.jpg"
    assert read_lst(text) == entries
    with pytest.raises(ValidationError, match="line 1 is not"):
        read_lst("3\tonly-two-fields")


# -- packing and unpacking ------------------------------------------------------------------


def image_tree(root: Path) -> None:
    for label, folder in enumerate(["cats", "dogs"]):
        (root / folder).mkdir(parents=True)
        for i in range(3):
            picture(32, 24, seed=10 * label + i).save(root / folder / f"{i}.png")


def test_pack_and_unpack_round_trip(tmp_path: Path) -> None:
    root = tmp_path / "images"
    image_tree(root)
    entries = make_list(root)
    assert [(e.path, e.labels) for e in entries][:4] == [
        ("cats/0.png", (0.0,)), ("cats/1.png", (0.0,)), ("cats/2.png", (0.0,)),
        ("dogs/0.png", (1.0,)),
    ]  # fmt: skip
    report = pack_images(entries, root, tmp_path / "train.rec")
    assert report.packed == 6
    assert report.failed == []
    offsets = read_idx((tmp_path / "train.idx").read_text())
    assert sorted(offsets) == [e.index for e in entries]
    assert read_lst((tmp_path / "train.lst").read_text()) == entries
    with (tmp_path / "train.rec").open("rb") as stream:
        records = list(read_records(stream))
    assert [offset for offset, _ in records] == [offsets[e.index] for e in entries]
    header, payload = unpack_header(records[4][1])
    assert header == IRHeader(0, 1.0, 4, 0)
    assert payload == (root / "dogs/1.png").read_bytes()  # packed as-is (pass-through)
    header, image = open_image_record(tmp_path / "train.rec", offsets[4])
    assert header.id == 4
    assert image.size == (32, 24)

    out = unpack_images(tmp_path / "train.rec", tmp_path / "out")
    assert out.packed == 6
    assert out.failed == []
    unpacked = read_lst((tmp_path / "out" / "train.lst").read_text())
    assert [(e.index, e.labels) for e in unpacked] == [(e.index, e.labels) for e in entries]
    for entry, back in zip(entries, unpacked, strict=True):
        original = np.asarray(Image.open(root / entry.path))
        assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / back.path)), original)


def test_pack_with_operations_reencodes(tmp_path: Path) -> None:
    root = tmp_path / "images"
    image_tree(root)
    report = pack_images(
        make_list(root), root, tmp_path / "small.rec", ops=[{"op": "resize", "size": [8, 8]}]
    )
    assert report.packed == 6
    _, image = open_image_record(tmp_path / "small.rec", 0)
    assert image.size == (8, 8)
    assert image.format == "JPEG"


def test_corrupt_images_are_reported_never_dropped_silently(tmp_path: Path) -> None:
    root = tmp_path / "images"
    image_tree(root)
    (root / "dogs" / "1.png").write_bytes(png_bytes(picture())[:60])  # truncated
    entries = [*make_list(root), ListEntry(99, (2.0,), "../outside.png")]
    report = pack_images(entries, root, tmp_path / "mixed.rec")
    assert report.packed == 5
    assert [(f["index"], f["path"]) for f in report.failed] == [
        (4, "dogs/1.png"), (99, "../outside.png")
    ]  # fmt: skip
    assert "not a readable image" in report.failed[0]["error"]
    assert "leaves the image root" in report.failed[1]["error"]
    assert len(read_lst((tmp_path / "mixed.lst").read_text())) == 5

    with pytest.raises(ValidationError, match=r"dogs/1.png.*cannot be packed.*nothing was written"):
        pack_images(entries, root, tmp_path / "strict.rec", on_error="fail")
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "images", "mixed.idx", "mixed.lst", "mixed.rec"
    ]  # fmt: skip


def test_unpack_reports_a_corrupt_payload(tmp_path: Path) -> None:
    with (tmp_path / "bad.rec").open("wb") as stream:
        write_record(stream, pack_header(IRHeader(0, 1.0, 0, 0), png_bytes(picture())))
        write_record(stream, pack_header(IRHeader(0, 2.0, 1, 0), b"not an image"))
    report = unpack_images(tmp_path / "bad.rec", tmp_path / "out")
    assert report.packed == 1
    assert report.failed[0]["index"] == 1
    with pytest.raises(ValidationError, match="record 1 is not a readable image"):
        unpack_images(tmp_path / "bad.rec", tmp_path / "out2", on_error="fail")


def test_pack_the_book_pcb_images(tmp_path: Path) -> None:
    root = tmp_path / "pcb"
    shutil.copytree(BOOK_IMAGES, root)
    entries = make_list(root)
    assert len(entries) == 6
    report = pack_images(entries, root, tmp_path / "pcb.rec")
    assert report.packed == 6
    unpacked = unpack_images(tmp_path / "pcb.rec", tmp_path / "out")
    assert unpacked.packed == 6
    for entry in entries:
        assert (tmp_path / "out" / f"{entry.index}.jpg").read_bytes() == (
            root / entry.path
        ).read_bytes()
