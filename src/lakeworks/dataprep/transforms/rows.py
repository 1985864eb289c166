"""Dropping rows and columns: by name, by missing values, by duplication."""

from __future__ import annotations

import pandas as pd

from lakeworks.core.errors import ValidationError
from lakeworks.dataprep.frames import KINDS, Schema
from lakeworks.dataprep.transforms.base import Transform, register
from lakeworks.dataprep.transforms.params import check_choice, check_int, check_number

__all__ = ["DropColumns", "DropDuplicateRows", "DropMissingRows", "DropSparseColumns"]


@register
class DropColumns(Transform):
    """Remove the named columns.

    The columns must exist when fitting. Applied as part of a fitted recipe, a column that is
    already absent is fine — serving data often lacks the target a recipe drops.

    Args:
        columns: The columns to remove (required).
    """

    name = "drop_columns"
    accepts = KINDS

    def __init__(self, columns: list[str] | None = None) -> None:
        super().__init__(columns)
        if columns is None:
            raise ValidationError("drop_columns: name the 'columns' to drop")

    def resolve(self, schema: Schema) -> list[str]:
        if self.is_fitted():
            return [c for c in self.columns_ if schema.kind(c) is not None]
        return super().resolve(schema)

    def check_columns(self, df: pd.DataFrame) -> None:
        pass  # absent columns need no dropping

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        pass

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        return df.drop(columns=[c for c in self.columns_ if c in df.columns])

    def _output_schema(self, schema: Schema, columns: list[str]) -> Schema:
        for column in columns:
            schema.kinds.pop(column, None)
        return schema


@register
class DropMissingRows(Transform):
    """Remove rows with missing values in the given columns.

    Args:
        columns: Columns to look at; None looks at all of them.
        how: ``any`` drops a row missing any of the columns, ``all`` one missing all of them.
        min_present: Instead of ``how``: drop rows with fewer than this many present values.
    """

    name = "drop_missing_rows"
    accepts = KINDS

    def __init__(
        self, columns: list[str] | None = None, how: str = "any", min_present: int | None = None
    ) -> None:
        super().__init__(columns)
        self.how = how
        self.min_present = min_present
        check_choice(self.name, "how", how, ("any", "all"))
        check_int(self.name, "min_present", min_present, minimum=1, optional=True)

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        pass

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        present = df[self.columns_].notna().sum(axis=1)
        if self.min_present is not None:
            keep = present >= self.min_present
        elif self.how == "any":
            keep = present == len(self.columns_)
        else:
            keep = present > 0
        return df[keep]


@register
class DropSparseColumns(Transform):
    """Remove columns whose share of missing values in the fitting data exceeds a limit.

    Args:
        columns: Candidate columns; None considers all.
        max_missing: Largest allowed fraction of missing values, in [0, 1]; a column above it
            is dropped (0.5: drop columns more than half empty).

    Learned: ``dropped_`` — the columns removed, decided once on the fitting data.
    """

    name = "drop_sparse_columns"
    accepts = KINDS
    state_keys = ("dropped_",)

    dropped_: list[str]

    def __init__(self, columns: list[str] | None = None, max_missing: float = 0.5) -> None:
        super().__init__(columns)
        self.max_missing = max_missing
        check_number(self.name, "max_missing", max_missing, minimum=0.0, maximum=1.0)

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        share = df[columns].isna().mean()
        self.dropped_ = [str(c) for c in columns if float(share[c]) > self.max_missing]

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        return df.drop(columns=self.dropped_)


@register
class DropDuplicateRows(Transform):
    """Remove rows that repeat an earlier row (in the given columns); the first one stays.

    Args:
        columns: Columns that make two rows the same; None compares whole rows.
    """

    name = "drop_duplicate_rows"
    accepts = ("numeric", "boolean", "datetime", "string")

    def _fit(self, df: pd.DataFrame, columns: list[str]) -> None:
        pass

    def _transform(self, df: pd.DataFrame) -> pd.DataFrame:
        return df[~df.duplicated(subset=self.columns_, keep="first")]
