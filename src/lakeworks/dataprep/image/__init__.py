"""Image preparation: Pillow/numpy operations and MXNet RecordIO packs (.rec, .idx, .lst)."""

from lakeworks.dataprep.image.ops import apply_ops, load_image
from lakeworks.dataprep.image.recordio import (
    IRHeader,
    ListEntry,
    PackReport,
    make_list,
    pack_images,
    unpack_images,
)

__all__ = [
    "IRHeader",
    "ListEntry",
    "PackReport",
    "apply_ops",
    "load_image",
    "make_list",
    "pack_images",
    "unpack_images",
]
