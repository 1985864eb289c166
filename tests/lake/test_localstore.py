"""What only the directory store does: its layout on disk, containment, and self-repair."""

from __future__ import annotations

import hashlib
import io
import os
import threading
from pathlib import Path

import pytest

from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.lake.localstore import LocalStore
from lakeworks.lake.objects import CHUNK_SIZE

LIMIT = 1 << 30


@pytest.fixture
def store(tmp_path: Path) -> LocalStore:
    local = LocalStore(tmp_path / "lake")
    local.create_bucket("b")
    return local


def put(store: LocalStore, key: str, data: bytes, bucket: str = "b") -> None:
    store.put(bucket, key, io.BytesIO(data), content_type="a/b", metadata={}, max_bytes=LIMIT)


def read(store: LocalStore, key: str) -> bytes:
    return b"".join(store.get("b", key)[3])


def keys(store: LocalStore, **kw: object) -> list[str]:
    return [i.key for i in store.list("b", **kw).items]  # type: ignore[arg-type]


def files_under(path: Path) -> set[str]:
    return {str(p.relative_to(path)) for p in path.rglob("*") if p.is_file()}


def test_ordinary_keys_live_at_their_natural_paths(store: LocalStore) -> None:
    put(store, "data/2024/part-0.csv", b"a,b\n")
    assert (store.root / "b" / "data" / "2024" / "part-0.csv").read_bytes() == b"a,b\n"
    assert (
        store.uri("b", "data/2024/part-0.csv")
        == (store.root / "b" / "data" / "2024" / "part-0.csv").as_uri()
    )
    # the data tree holds only the data: metadata lives in the sidecar tree
    assert files_under(store.root / "b") == {"data/2024/part-0.csv"}


def test_a_key_and_keys_under_it_coexist(store: LocalStore) -> None:
    put(store, "a", b"file a")
    put(store, "a/b", b"file a/b")  # "a" must become a directory: the file a moves aside
    put(store, "a", b"file a again")
    assert read(store, "a") == b"file a again"
    assert read(store, "a/b") == b"file a/b"
    assert (store.root / "b" / "a").is_dir()
    assert keys(store) == ["a", "a/b"]
    store.delete("b", "a/b")
    assert read(store, "a") == b"file a again"
    assert keys(store) == ["a"]
    store.delete("b", "a")
    assert keys(store) == []
    assert files_under(store.root / "b") == set()


def test_folder_markers_and_empty_segments(store: LocalStore) -> None:
    for key in ["dir/", "dir//x", "dir/x", "//"]:
        put(store, key, key.encode())
    assert keys(store) == ["//", "dir/", "dir//x", "dir/x"]
    assert [read(store, k) for k in keys(store)] == [k.encode() for k in keys(store)]
    page = store.list("b", prefix="dir/", delimiter="/")
    assert [i.key for i in page.items] == ["dir/", "dir/x"]
    assert page.common_prefixes == ["dir//"]


def test_deleting_prunes_empty_directories(store: LocalStore) -> None:
    put(store, "x/y/z/k", b"v")
    put(store, "x/keep", b"v")
    store.delete("b", "x/y/z/k")
    assert not (store.root / "b" / "x" / "y").exists()
    assert (store.root / "b" / "x" / "keep").exists()
    assert not (store.root / ".meta" / "b" / "x" / "y").exists()


def test_listing_skips_temp_sidecar_and_foreign_names(store: LocalStore) -> None:
    put(store, "k", b"v")
    (store.root / ".tmp" / "w-leftover").write_bytes(b"partial")
    (store.root / "b" / ".lw~wsomething").write_bytes(b"not an object")
    (store.root / "b" / ".lw~mk").write_bytes(b"not an object")
    assert keys(store) == ["k"]


def test_a_file_copied_in_by_hand_becomes_an_object(store: LocalStore) -> None:
    (store.root / "b" / "dropped").mkdir()
    (store.root / "b" / "dropped" / "in.csv").write_bytes(b"1,2\n")
    (item,) = store.list("b").items
    assert (item.key, item.size, item.etag) == (
        "dropped/in.csv",
        4,
        hashlib.md5(b"1,2\n").hexdigest(),
    )
    assert read(store, "dropped/in.csv") == b"1,2\n"


def test_data_replaced_behind_our_back_gets_fresh_metadata(store: LocalStore) -> None:
    put(store, "k", b"original")
    path = store.root / "b" / "k"
    path.unlink()
    path.write_bytes(b"replaced by hand")  # a new inode: the sidecar no longer matches
    head = store.head("b", "k")
    assert head.etag == hashlib.md5(b"replaced by hand").hexdigest()
    assert head.size == len(b"replaced by hand")


def test_symlinked_directory_out_of_the_root_is_refused(store: LocalStore, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret").write_bytes(b"top secret")
    (store.root / "b" / "evil").symlink_to(outside, target_is_directory=True)
    before = files_under(outside)

    with pytest.raises(ValidationError) as caught:
        put(store, "evil/planted", b"x")
    assert caught.value.status == 400
    with pytest.raises(ValidationError):
        store.get("b", "evil/secret")
    with pytest.raises(ValidationError):
        store.head("b", "evil/secret")
    with pytest.raises(ValidationError):
        put(store, "evil/deeper/planted", b"x")
    assert files_under(outside) == before
    assert keys(store) == []  # links are not followed by listings either


def test_symlinked_file_is_not_an_object(store: LocalStore, tmp_path: Path) -> None:
    (tmp_path / "passwd").write_bytes(b"root:x:0:0")
    (store.root / "b" / "passwd").symlink_to(tmp_path / "passwd")
    with pytest.raises((NotFound, ValidationError)):
        store.get("b", "passwd")
    with pytest.raises(ValidationError):
        put(store, "passwd", b"overwrite?")
    assert (tmp_path / "passwd").read_bytes() == b"root:x:0:0"


def test_symlinked_bucket_directory_is_refused(tmp_path: Path) -> None:
    store = LocalStore(tmp_path / "lake")
    (tmp_path / "elsewhere").mkdir()
    (store.root / "linked").symlink_to(tmp_path / "elsewhere", target_is_directory=True)
    with pytest.raises(ValidationError):
        put(store, "k", b"x", bucket="linked")
    assert list((tmp_path / "elsewhere").iterdir()) == []


def test_failed_puts_leave_no_temp_files(store: LocalStore) -> None:
    with pytest.raises(ValidationError):
        store.put(
            "b",
            "k",
            io.BytesIO(b"body"),
            content_type="a/b",
            metadata={},
            max_bytes=LIMIT,
            content_md5="AAAAAAAAAAAAAAAAAAAAAA==",
        )
    assert list((store.root / ".tmp").iterdir()) == []
    assert files_under(store.root / "b") == set()


def test_objects_survive_reopening_the_store(store: LocalStore) -> None:
    store.put("b", "k", io.BytesIO(b"v"), content_type="text/x", metadata={"a": "1"}, max_bytes=9)
    again = LocalStore(store.root)
    head = again.head("b", "k")
    assert (head.content_type, head.metadata) == ("text/x", {"a": "1"})


def test_stale_temp_files_are_swept_on_open(store: LocalStore) -> None:
    stale = store.root / ".tmp" / "w-crashed"
    stale.write_bytes(b"half")
    os.utime(stale, (0, 0))
    fresh = store.root / ".tmp" / "w-in-flight"
    fresh.write_bytes(b"half")
    LocalStore(store.root)
    assert not stale.exists()
    assert fresh.exists()


def test_file_urls(tmp_path: Path) -> None:
    store = LocalStore.from_url((tmp_path / "via url").as_uri())
    assert store.root == (tmp_path / "via url").resolve()
    with pytest.raises(ValidationError):
        LocalStore.from_url("file://otherhost/share")


def _run(threads: list[threading.Thread]) -> None:
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_readers_never_see_a_torn_object_while_writers_replace_it(store: LocalStore) -> None:
    versions = [bytes([n]) * (CHUNK_SIZE // 4 + n) for n in range(5)]
    by_etag = {hashlib.md5(v).hexdigest(): v for v in versions}
    put(store, "hot", versions[0])
    problems: list[object] = []
    writing = threading.Event()

    def writer(offset: int) -> None:
        for n in range(15):
            put(store, "hot", versions[(offset + n) % len(versions)])

    def reader() -> None:
        while writing.is_set():
            info, _, _, chunks = store.get("b", "hot")
            if by_etag.get(info.etag) != b"".join(chunks):
                problems.append(("torn", info.etag))
            if [i.key for i in store.list("b").items] != ["hot"]:
                problems.append("listing")

    writing.set()
    writers = [threading.Thread(target=writer, args=(n,)) for n in range(3)]
    readers = [threading.Thread(target=reader) for _ in range(2)]
    for thread in readers:
        thread.start()
    _run(writers)
    writing.clear()
    for thread in readers:
        thread.join()
    assert problems == []


def test_an_object_stays_readable_while_keys_under_it_come_and_go(store: LocalStore) -> None:
    put(store, "a", b"the object a")
    problems: list[object] = []
    churning = threading.Event()

    def churn() -> None:
        for n in range(40):
            put(store, f"a/{n % 3}", b"under")
            store.delete("b", f"a/{n % 3}")

    def reader() -> None:
        while churning.is_set():
            try:
                if read(store, "a") != b"the object a":
                    problems.append("content")
            except NotFound:
                problems.append("vanished")

    churning.set()
    readers = [threading.Thread(target=reader) for _ in range(2)]
    for thread in readers:
        thread.start()
    _run([threading.Thread(target=churn) for _ in range(2)])
    churning.clear()
    for thread in readers:
        thread.join()
    assert problems == []
    assert keys(store) == ["a"]
