"""A delivery stream's write-ahead log: records are durable before they are acknowledged.

Records get consecutive sequence numbers. Each :meth:`WriteAheadLog.append` writes one frame
(every record of one request) to the current segment file and returns once that frame is on disk:
the first caller to need a sync runs ``fdatasync`` for everything written so far, and callers
whose frames that sync covered return without one of their own (group commit), so concurrent
requests share syncs.

A small state file, replaced atomically, holds the last delivered sequence number and the range
being delivered now. The flusher records the range before it writes the object, and the object's
name derives from that range, so after a crash the same range is delivered again under the same
name, overwriting a possibly written object: every acknowledged record lands exactly once.

Frame: ``<u32 body length><u32 crc32 of body>`` then the body ``<i64 arrival ms><u32 count>``
followed by ``<u32 length><bytes>`` per record. A torn frame at the end of the last segment (a
crash mid-write; never acknowledged) is cut off on open.
"""

from __future__ import annotations

import json
import os
import struct
import threading
import zlib
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Batch", "LogRecord", "WriteAheadLog"]

_HEADER = struct.Struct("<II")
_BODY_HEAD = struct.Struct("<qI")
_LENGTH = struct.Struct("<I")
_STATE = "state.json"
_SUFFIX = ".wal"
#: A new segment starts once the current one is this large.
SEGMENT_BYTES = 64 * 1024 * 1024


@dataclass(frozen=True)
class LogRecord:
    """One record: its sequence number, arrival time (epoch ms) and bytes."""

    seq: int
    arrival_ms: int
    data: bytes


@dataclass(frozen=True)
class Batch:
    """Records ``first``..``last`` (inclusive) to deliver as one object."""

    first: int
    last: int
    records: list[LogRecord]


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


def encode_frame(records: Sequence[bytes], arrival_ms: int) -> bytes:
    """One frame holding ``records`` (see the module docstring)."""
    parts = [_BODY_HEAD.pack(arrival_ms, len(records))]
    for data in records:
        parts.append(_LENGTH.pack(len(data)))
        parts.append(data)
    body = b"".join(parts)
    return _HEADER.pack(len(body), zlib.crc32(body)) + body


def _decode_frames(raw: bytes) -> tuple[list[tuple[int, list[bytes]]], int]:
    """The whole frames in ``raw`` and the offset where the valid part ends."""
    frames: list[tuple[int, list[bytes]]] = []
    pos = 0
    while pos + _HEADER.size <= len(raw):
        length, crc = _HEADER.unpack_from(raw, pos)
        start, end = pos + _HEADER.size, pos + _HEADER.size + length
        if end > len(raw) or zlib.crc32(raw[start:end]) != crc:
            break
        arrival_ms, count = _BODY_HEAD.unpack_from(raw, start)
        cursor, records = start + _BODY_HEAD.size, []
        for _ in range(count):
            (size,) = _LENGTH.unpack_from(raw, cursor)
            cursor += _LENGTH.size
            records.append(raw[cursor : cursor + size])
            cursor += size
        frames.append((arrival_ms, records))
        pos = end
    return frames, pos


class WriteAheadLog:
    """The log of one delivery stream, in its own directory.

    Opening it recovers: torn tails are cut, and every record after the delivered mark is pending
    again (:attr:`inflight`, when set, is the range a crashed delivery was writing).

    Args:
        directory: The log's directory (created when missing).
        segment_bytes: Size at which a new segment file starts.
    """

    def __init__(self, directory: Path, *, segment_bytes: int = SEGMENT_BYTES) -> None:
        self.directory = directory
        self.segment_bytes = segment_bytes
        directory.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._sync = threading.Condition()
        self._syncing = False
        self._retired: list[int] = []
        self.pending: deque[LogRecord] = deque()
        self.pending_bytes = 0
        self.delivered, self.inflight = self._read_state()
        self._segments: list[tuple[int, Path]] = []
        self._next_seq = self.delivered + 1
        self._recover()
        self._synced_seq = self._written_seq = self._next_seq - 1
        self._fd = -1
        self._size = 0
        self._open_segment()

    # -- recovery --------------------------------------------------------------------------------

    def _read_state(self) -> tuple[int, tuple[int, int] | None]:
        path = self.directory / _STATE
        if not path.exists():
            return -1, None
        state = json.loads(path.read_text())
        inflight = state.get("inflight")
        return int(state["delivered"]), (int(inflight[0]), int(inflight[1])) if inflight else None

    def _recover(self) -> None:
        paths = sorted(self.directory.glob(f"*{_SUFFIX}"))
        for index, path in enumerate(paths):
            first = int(path.stem)
            raw = path.read_bytes()
            frames, valid = _decode_frames(raw)
            if valid < len(raw):
                if index != len(paths) - 1:
                    raise RuntimeError(f"{path} is corrupt at byte {valid} (not at its tail)")
                with path.open("r+b") as handle:  # a torn, never acknowledged tail
                    handle.truncate(valid)
                    os.fsync(handle.fileno())
            seq = first
            for arrival_ms, records in frames:
                for data in records:
                    if seq > self.delivered:
                        self.pending.append(LogRecord(seq, arrival_ms, data))
                        self.pending_bytes += len(data)
                    seq += 1
            if seq == first and index == len(paths) - 1:
                path.unlink()  # an empty last segment: the next one takes its name
                continue
            self._segments.append((first, path))
            self._next_seq = max(self._next_seq, seq)
        self._drop_delivered_segments()

    def _open_segment(self) -> None:
        path = self.directory / f"{self._next_seq:020d}{_SUFFIX}"
        self._fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        self._size = 0
        self._segments.append((self._next_seq, path))
        _fsync_dir(self.directory)

    # -- appending -------------------------------------------------------------------------------

    def append(self, records: Sequence[bytes], arrival_ms: int) -> int:
        """Append ``records`` and return once they are on disk; the first one's sequence number.

        Raises:
            OSError: The write or sync failed (nothing may be acknowledged).
        """
        frame = encode_frame(records, arrival_ms)
        with self._lock:
            if self._fd < 0:
                raise OSError("the write-ahead log is closed")
            if self._size and self._size + len(frame) > self.segment_bytes:
                os.fdatasync(self._fd)
                self._retired.append(self._fd)
                self._open_segment()
            first = self._next_seq
            _write_all(self._fd, frame)
            self._size += len(frame)
            for offset, data in enumerate(records):
                self.pending.append(LogRecord(first + offset, arrival_ms, data))
                self.pending_bytes += len(data)
            self._next_seq += len(records)
            self._written_seq = self._next_seq - 1
            target = self._written_seq
        self._sync_until(target)
        return first

    def _sync_until(self, target: int) -> None:
        with self._sync:
            while self._synced_seq < target:
                if self._syncing:
                    self._sync.wait()
                    continue
                self._syncing = True
                with self._lock:
                    upto, fd, retired = self._written_seq, self._fd, self._retired
                    self._retired = []
                self._sync.release()
                try:
                    os.fdatasync(fd)
                    for old in retired:  # synced when retired; no other leader holds them
                        os.close(old)
                finally:
                    self._sync.acquire()
                    self._syncing = False
                    self._sync.notify_all()
                self._synced_seq = max(self._synced_seq, upto)

    @property
    def acknowledged(self) -> int:
        """Records durably appended since the log began (the next sequence number)."""
        return self._synced_seq + 1

    # -- delivering ------------------------------------------------------------------------------

    def oldest_pending_ms(self) -> int | None:
        """Arrival time of the oldest durable undelivered record, or ``None``."""
        with self._lock:
            head = self.pending[0] if self.pending else None
        return head.arrival_ms if head is not None and head.seq <= self._synced_seq else None

    def next_batch(self, max_bytes: int) -> Batch | None:
        """The next range to deliver: the crashed delivery's range first, else durable pending
        records up to ``max_bytes`` (at least one). The range is recorded as in flight."""
        with self._lock:
            synced = self._synced_seq
            if self.inflight is not None:
                first, last = self.inflight
                records = [r for r in self.pending if r.seq <= last]
            else:
                records, size = [], 0
                for record in self.pending:
                    if record.seq > synced or (records and size + len(record.data) > max_bytes):
                        break
                    records.append(record)
                    size += len(record.data)
                if not records:
                    return None
                first, last = records[0].seq, records[-1].seq
        if self.inflight is None:
            self._write_state(self.delivered, (first, last))
            self.inflight = (first, last)
        return Batch(first, last, records)

    def mark_delivered(self, batch: Batch) -> None:
        """Record ``batch`` as delivered, forget its records and drop spent segments."""
        self._write_state(batch.last, None)
        with self._lock:
            self.delivered, self.inflight = batch.last, None
            while self.pending and self.pending[0].seq <= batch.last:
                self.pending_bytes -= len(self.pending.popleft().data)
            self._drop_delivered_segments()

    def _write_state(self, delivered: int, inflight: tuple[int, int] | None) -> None:
        path = self.directory / _STATE
        temp = path.with_suffix(".tmp")
        with temp.open("w") as handle:
            json.dump({"delivered": delivered, "inflight": inflight}, handle)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp, path)
        _fsync_dir(self.directory)

    def _drop_delivered_segments(self) -> None:
        # A segment is spent when the next one starts at or before the first undelivered record.
        while len(self._segments) > 1 and self._segments[1][0] <= self.delivered + 1:
            self._segments.pop(0)[1].unlink(missing_ok=True)

    def close(self) -> None:
        """Close the files; the log reopens (and recovers) from the same directory."""
        with self._lock:
            fds, self._retired = [self._fd, *self._retired], []
            self._fd = -1
        for fd in fds:
            if fd >= 0:
                os.close(fd)
