"""Input formats of the built-in algorithms, read the way AWS's containers read them.

``csv`` (label first, no header), ``libsvm`` (XGBoost, LightGBM), ``parquet`` and
``recordio_protobuf`` (``application/x-recordio-protobuf``, with a writer that produces the same
bytes as the SageMaker SDK). :func:`read_channel` reads one channel directory into a
:class:`Dataset`.
"""

from lakeworks.training.formats.channel import (
    CSV,
    LIBSVM,
    PARQUET,
    RECORDIO_PROTOBUF,
    ContentType,
    parse_content_type,
    read_channel,
)
from lakeworks.training.formats.dataset import Dataset, Features, as_dense

__all__ = [
    "CSV",
    "LIBSVM",
    "PARQUET",
    "RECORDIO_PROTOBUF",
    "ContentType",
    "Dataset",
    "Features",
    "as_dense",
    "parse_content_type",
    "read_channel",
]
