"""The write-ahead log: durable appends, group commit, recovery, exactly-once delivery ranges."""

from __future__ import annotations

import threading
from pathlib import Path

from lakeworks.lake.firehose.wal import WriteAheadLog


def test_append_recover_and_deliver(tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path, segment_bytes=256)
    firsts = [wal.append([f"r{i}-{j}".encode() for j in range(5)], 1000 + i) for i in range(10)]
    assert firsts == list(range(0, 50, 5))
    assert wal.acknowledged == 50
    assert len(list(tmp_path.glob("*.wal"))) > 1  # segments rotated
    batch = wal.next_batch(max_bytes=16)
    assert batch is not None
    assert (batch.first, batch.last) == (0, 3)
    wal.close()

    # a crash after the range was recorded: the same range comes back first
    again = WriteAheadLog(tmp_path, segment_bytes=256)
    replay = again.next_batch(max_bytes=10_000)
    assert replay is not None
    assert (replay.first, replay.last) == (0, 3)
    assert [r.data for r in replay.records] == [b"r0-0", b"r0-1", b"r0-2", b"r0-3"]
    again.mark_delivered(replay)
    rest = again.next_batch(max_bytes=10_000)
    assert rest is not None
    assert (rest.first, rest.last) == (4, 49)
    assert rest.records[0].arrival_ms == 1000
    assert rest.records[-1].arrival_ms == 1009
    again.mark_delivered(rest)
    assert again.next_batch(max_bytes=10_000) is None
    assert len(list(tmp_path.glob("*.wal"))) == 1  # spent segments are gone
    assert again.append([b"next"], 2000) == 50  # numbering continues
    again.close()
    reopened = WriteAheadLog(tmp_path)
    assert [r.data for r in reopened.pending] == [b"next"]
    reopened.close()


def test_torn_tail_is_cut(tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path)
    wal.append([b"kept"], 1)
    wal.close()
    (segment,) = tmp_path.glob("*.wal")
    with segment.open("ab") as handle:
        handle.write(b"\x40\x00\x00\x00garbage")  # a frame cut short by a crash
    wal = WriteAheadLog(tmp_path)
    assert [r.data for r in wal.pending] == [b"kept"]
    assert wal.append([b"after"], 2) == 1
    wal.close()
    assert [r.data for r in WriteAheadLog(tmp_path).pending] == [b"kept", b"after"]


def test_concurrent_appends_get_distinct_ordered_numbers(tmp_path: Path) -> None:
    wal = WriteAheadLog(tmp_path)
    seen: list[int] = []

    def writer(n: int) -> None:
        for i in range(50):
            seen.append(wal.append([f"{n}:{i}".encode()] * 3, i))

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(seen) == list(range(0, 8 * 50 * 3, 3))
    wal.close()
    reopened = WriteAheadLog(tmp_path)
    assert [r.seq for r in reopened.pending] == list(range(8 * 50 * 3))
    reopened.close()
