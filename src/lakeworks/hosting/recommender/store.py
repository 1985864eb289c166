"""The table of inference recommendations jobs; nothing outside this package touches it.

One row per job: the request as SageMaker shapes it, the status and its reason, the steps (one
benchmark per candidate, appended as they finish) and the recommendations chosen from them.
The row is the whole state, so DescribeInferenceRecommendationsJob works after a restart; a job
an earlier server process left unfinished is failed by :func:`fail_unfinished`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import String, Text, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lakeworks.db import Base

__all__ = ["UNFINISHED", "RecommendationJobRecord", "all_jobs", "unfinished_jobs"]

#: Statuses of a job still running (or waiting to).
UNFINISHED = ("PENDING", "IN_PROGRESS", "STOPPING")


class RecommendationJobRecord(Base):
    """One inference recommendations job."""

    __tablename__ = "inference_recommendations_jobs"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    arn: Mapped[str] = mapped_column(String(256))
    #: The CreateInferenceRecommendationsJob request (snake_case, ``None`` fields left out).
    request: Mapped[dict[str, Any]]
    model_name: Mapped[str | None] = mapped_column(String(63), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    failure_reason: Mapped[str | None] = mapped_column(Text)
    #: ``RecommendationJobStep`` dumps (snake_case), one per benchmark, in the order they ended.
    steps: Mapped[list[Any]]
    #: ``InferenceRecommendation`` dumps, best first.
    recommendations: Mapped[list[Any]]
    #: Temporary endpoints created and not yet deleted (cleaned up after a crash).
    endpoints: Mapped[list[Any]]
    creation_time: Mapped[datetime] = mapped_column(index=True)
    last_modified_time: Mapped[datetime]
    completion_time: Mapped[datetime | None]


def unfinished_jobs(session: Session) -> list[RecommendationJobRecord]:
    """Jobs whose status says they are still running."""
    return list(
        session.scalars(
            select(RecommendationJobRecord).where(RecommendationJobRecord.status.in_(UNFINISHED))
        )
    )


def all_jobs(session: Session) -> list[RecommendationJobRecord]:
    """Every job (listings are small and sorted in memory)."""
    return list(session.scalars(select(RecommendationJobRecord)))
