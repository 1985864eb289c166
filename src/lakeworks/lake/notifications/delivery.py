"""The delivery worker: a thread that sends due deliveries, with retries and backoff.

Delivery is at least once: a row stays Pending until a send succeeded (Delivered) or its
attempts are spent (Failed, with the last error). Sends never block uploads: they happen
here, on the worker's own thread.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from lakeworks.core.clock import utcnow
from lakeworks.db import Database
from lakeworks.lake.notifications import store

__all__ = ["DeliveryWorker", "Sender", "backoff_seconds"]

log = logging.getLogger("lakeworks.lake.notifications")

#: Sends one payload to one target; raises to make the attempt fail.
Sender = Callable[[str, dict[str, Any]], None]

_MAX_ERROR = 2000


def backoff_seconds(attempt: int, base: float) -> float:
    """Seconds before attempt ``attempt + 1``: ``base * 2**(attempt-1)``, at most 300."""
    return float(min(300.0, base * (2 ** max(0, attempt - 1))))


class DeliveryWorker:
    """Delivers queued events through the sender registered for their target type.

    Args:
        db: The metadata database (the queue).
        senders: ``target_type`` → sender (filled in by the services above the lake).
        interval: Seconds between polls when idle.
        base_backoff: Seconds before the first retry (doubled each time).
    """

    def __init__(
        self,
        db: Database,
        senders: dict[str, Sender],
        *,
        interval: float = 0.2,
        base_backoff: float = 1.0,
    ) -> None:
        self.db = db
        self.senders = senders
        self.interval = interval
        self.base_backoff = base_backoff
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._threads: list[threading.Thread] = []

    def start(self, workers: int = 2) -> None:
        """Start the worker threads (idempotent)."""
        if self._threads:
            return
        self._stop.clear()
        self._claimed: set[str] = set()
        self._lock = threading.Lock()
        for index in range(workers):
            thread = threading.Thread(
                target=self._loop, name=f"lakeworks-deliveries-{index}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def wake(self) -> None:
        """A delivery was queued: look now rather than at the next poll."""
        self._wake.set()

    def stop(self) -> None:
        """Stop the threads; pending deliveries stay queued for the next start."""
        self._stop.set()
        self._wake.set()
        for thread in self._threads:
            thread.join(timeout=30)
        self._threads = []

    def _loop(self) -> None:
        while not self._stop.is_set():
            try:
                worked = self.run_once()
            except Exception:  # the worker must outlive a bad row or a database hiccup
                log.exception("delivering events failed")
                worked = False
            if not worked:
                self._wake.wait(self.interval)
                self._wake.clear()

    def _claim(self) -> str | None:
        with self.db.session() as session:
            rows = store.due_deliveries(session, utcnow(), 20)
            with self._lock:
                for row in rows:
                    if row.delivery_id not in self._claimed:
                        self._claimed.add(row.delivery_id)
                        return row.delivery_id
        return None

    def run_once(self) -> bool:
        """Attempt one due delivery; False when none was due."""
        delivery_id = self._claim()
        if delivery_id is None:
            return False
        try:
            self._attempt(delivery_id)
        finally:
            with self._lock:
                self._claimed.discard(delivery_id)
        return True

    def _attempt(self, delivery_id: str) -> None:
        with self.db.session() as session:
            row = session.get(store.DeliveryRecord, delivery_id)
            if row is None or row.status != "Pending":
                return
            target_type, target, payload = row.target_type, row.target, dict(row.payload)
        error: str | None = None
        sender = self.senders.get(target_type)
        try:
            if sender is None:
                raise RuntimeError(f"no sender for target type {target_type!r}")
            sender(target, payload)
        except Exception as exc:
            error = (str(exc) or type(exc).__name__)[:_MAX_ERROR]
        self._record(delivery_id, error, utcnow())

    def _record(self, delivery_id: str, error: str | None, now: datetime) -> None:
        with self.db.session() as session:
            row = session.get(store.DeliveryRecord, delivery_id)
            if row is None:
                return
            row.attempts += 1
            row.history = [
                *row.history,
                {
                    "time": now.isoformat(),
                    "outcome": "Failed" if error else "Delivered",
                    "error": error,
                },
            ]
            if error is None:
                row.status, row.next_attempt_time, row.last_error = "Delivered", None, None
            elif row.attempts >= row.max_attempts:
                row.status, row.next_attempt_time, row.last_error = "Failed", None, error
            else:
                delay = backoff_seconds(row.attempts, self.base_backoff)
                row.next_attempt_time = now + timedelta(seconds=delay)
                row.last_error = error
