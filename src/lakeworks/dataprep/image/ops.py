"""Image operations on Pillow images: resize, crop, tile, rotate, grayscale, normalize.

Each operation is a plain function; :func:`apply_ops` runs a list of them described as data
(``[{"op": "resize", "size": [224, 224]}, {"op": "grayscale"}]``), which is how recipes, jobs
and the API name them. :func:`load_image` turns bytes into an image or a clear error, so a
corrupt file is reported by whoever loops over images rather than crashing them.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from lakeworks.core.errors import ValidationError

__all__ = [
    "OPS",
    "apply_ops",
    "center_crop",
    "crop",
    "encode_image",
    "flip",
    "grayscale",
    "load_image",
    "normalize",
    "resize",
    "rotate",
    "tile",
]

_RESAMPLE = {
    "nearest": Image.Resampling.NEAREST,
    "bilinear": Image.Resampling.BILINEAR,
    "bicubic": Image.Resampling.BICUBIC,
    "lanczos": Image.Resampling.LANCZOS,
}


def load_image(data: bytes | Path, name: str = "image") -> Image.Image:
    """Decode an image fully (so truncation is found now, not later).

    Raises:
        ValidationError: The bytes are not an image Pillow can decode, or it is truncated or
            too large; the message names ``name``.
    """
    try:
        raw = data.read_bytes() if isinstance(data, Path) else data
        image = Image.open(io.BytesIO(raw))
        image.load()
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as exc:
        raise ValidationError(f"{name} is not a readable image: {exc}") from None
    except Image.DecompressionBombError as exc:
        raise ValidationError(f"{name} is too large to decode safely: {exc}") from None
    return image


def _pair(name: str, value: Any) -> tuple[int, int]:
    if (
        not isinstance(value, list | tuple)
        or len(value) != 2
        or not all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in value)
    ):
        raise ValidationError(
            f"'{name}' must be [width, height] of positive integers; got {value!r}"
        )
    return int(value[0]), int(value[1])


def resize(
    image: Image.Image,
    size: Sequence[int],
    *,
    keep_aspect: bool = False,
    resample: str = "bilinear",
) -> Image.Image:
    """Resize to ``size`` = (width, height); with ``keep_aspect`` fit inside it instead."""
    width, height = _pair("size", size)
    if resample not in _RESAMPLE:
        raise ValidationError(f"'resample' must be one of {sorted(_RESAMPLE)}; got {resample!r}")
    if keep_aspect:
        copy = image.copy()
        copy.thumbnail((width, height), _RESAMPLE[resample])
        return copy
    return image.resize((width, height), _RESAMPLE[resample])


def crop(image: Image.Image, box: Sequence[int]) -> Image.Image:
    """Crop to ``box`` = (left, top, right, bottom), which must lie inside the image."""
    if (
        not isinstance(box, list | tuple)
        or len(box) != 4
        or not all(isinstance(v, int) and not isinstance(v, bool) for v in box)
    ):
        raise ValidationError(f"'box' must be [left, top, right, bottom] integers; got {box!r}")
    left, top, right, bottom = box
    if not (0 <= left < right <= image.width and 0 <= top < bottom <= image.height):
        raise ValidationError(
            f"crop box {list(box)} does not fit inside the {image.width}×{image.height} image"
        )
    return image.crop((left, top, right, bottom))


def center_crop(image: Image.Image, size: Sequence[int]) -> Image.Image:
    """Crop the central ``size`` = (width, height) region."""
    width, height = _pair("size", size)
    if width > image.width or height > image.height:
        raise ValidationError(
            f"center crop {width}×{height} is larger than the {image.width}×{image.height} image"
        )
    left, top = (image.width - width) // 2, (image.height - height) // 2
    return image.crop((left, top, left + width, top + height))


def tile(
    image: Image.Image,
    size: Sequence[int],
    *,
    stride: Sequence[int] | None = None,
    pad: bool = False,
) -> list[tuple[tuple[int, int], Image.Image]]:
    """Cut the image into tiles of ``size``, stepping by ``stride`` (default: the tile size).

    Returns:
        ``[((left, top), tile), …]`` row by row. Tiles that would cross the right or bottom
        edge are dropped, or with ``pad`` filled with black beyond the edge.
    """
    width, height = _pair("size", size)
    step_x, step_y = _pair("stride", stride) if stride is not None else (width, height)
    tiles: list[tuple[tuple[int, int], Image.Image]] = []
    last_x = image.width - (1 if pad else width)
    last_y = image.height - (1 if pad else height)
    for top in range(0, max(last_y, -1) + 1, step_y):
        for left in range(0, max(last_x, -1) + 1, step_x):
            # Image.crop fills the part outside the image with zeros, which is the padding.
            tiles.append(((left, top), image.crop((left, top, left + width, top + height))))
    return tiles


def rotate(
    image: Image.Image, degrees: float, *, expand: bool = True, fill: int = 0
) -> Image.Image:
    """Rotate counter-clockwise by ``degrees``; ``expand`` grows the canvas to fit."""
    if isinstance(degrees, bool) or not isinstance(degrees, int | float):
        raise ValidationError(f"'degrees' must be a number; got {degrees!r}")
    if float(degrees) % 90 == 0:
        # Exact right-angle turns without resampling blur.
        turns = int(float(degrees) // 90) % 4
        transposes = (
            None,
            Image.Transpose.ROTATE_90,
            Image.Transpose.ROTATE_180,
            Image.Transpose.ROTATE_270,
        )
        op = transposes[turns]
        return image.copy() if op is None else image.transpose(op)
    return image.rotate(degrees, resample=Image.Resampling.BILINEAR, expand=expand, fillcolor=fill)


def flip(image: Image.Image, *, direction: str = "horizontal") -> Image.Image:
    """Mirror left-right (``horizontal``) or top-bottom (``vertical``)."""
    if direction == "horizontal":
        return ImageOps.mirror(image)
    if direction == "vertical":
        return ImageOps.flip(image)
    raise ValidationError(f"'direction' must be 'horizontal' or 'vertical'; got {direction!r}")


def grayscale(image: Image.Image) -> Image.Image:
    """Convert to 8-bit grayscale (ITU-R 601-2 luma, Pillow's ``L`` mode)."""
    return image.convert("L")


def normalize(
    image: Image.Image,
    *,
    mean: Sequence[float] | None = None,
    std: Sequence[float] | None = None,
    scale: float = 255.0,
) -> np.ndarray[Any, np.dtype[np.float32]]:
    """Return the pixels as float32 ``(height, width, channels)``: ``(x / scale - mean) / std``.

    ``mean`` and ``std`` have one value per channel (or one for all); ImageNet's are
    ``[0.485, 0.456, 0.406]`` and ``[0.229, 0.224, 0.225]``.
    """
    array: np.ndarray[Any, Any] = np.asarray(image, dtype=np.float32)
    if array.ndim == 2:
        array = array[:, :, None]
    array = array / np.float32(scale)
    channels = array.shape[2]
    for name, values in (("mean", mean), ("std", std)):
        if values is not None and len(values) not in (1, channels):
            raise ValidationError(
                f"'{name}' needs 1 or {channels} values for this image; got {len(values)}"
            )
    if mean is not None:
        array = array - np.asarray(mean, dtype=np.float32)
    if std is not None:
        if any(s == 0 for s in std):
            raise ValidationError("'std' values must not be 0")
        array = array / np.asarray(std, dtype=np.float32)
    return np.asarray(array, dtype=np.float32)


def encode_image(image: Image.Image, fmt: str = "JPEG", quality: int = 95) -> bytes:
    """Encode an image (JPEG quality 95 by default, as MXNet's im2rec)."""
    out = io.BytesIO()
    if fmt.upper() in ("JPEG", "JPG"):
        if image.mode not in ("RGB", "L"):
            image = image.convert("RGB")
        image.save(out, format="JPEG", quality=quality)
    else:
        image.save(out, format=fmt.upper())
    return out.getvalue()


#: Operations :func:`apply_ops` knows: function, required and optional arguments.
OPS: dict[str, tuple[Callable[..., Any], tuple[str, ...], tuple[str, ...]]] = {
    "resize": (resize, ("size",), ("keep_aspect", "resample")),
    "crop": (crop, ("box",), ()),
    "center_crop": (center_crop, ("size",), ()),
    "rotate": (rotate, ("degrees",), ("expand", "fill")),
    "flip": (flip, (), ("direction",)),
    "grayscale": (grayscale, (), ()),
}


def apply_ops(image: Image.Image, ops: Sequence[Mapping[str, Any]]) -> Image.Image:
    """Apply operations described as data, in order.

    Args:
        image: The input image.
        ops: Each ``{"op": name, **arguments}``; names and arguments from :data:`OPS`.

    Raises:
        ValidationError: Unknown operation or argument (the message lists what is allowed), a
            missing required argument, or a bad argument value.
    """
    for position, spec in enumerate(ops, start=1):
        if not isinstance(spec, Mapping) or "op" not in spec:
            raise ValidationError(f"image op {position} must be an object with an 'op' name")
        name = spec["op"]
        if name not in OPS:
            raise ValidationError(
                f"image op {position}: unknown op {name!r}; allowed: {sorted(OPS)}"
            )
        function, required, optional = OPS[name]
        arguments = {k: v for k, v in spec.items() if k != "op"}
        unknown = sorted(set(arguments) - set(required) - set(optional))
        if unknown:
            raise ValidationError(
                f"image op {position} ({name}): unknown arguments {unknown}; allowed: "
                f"{list(required + optional)}"
            )
        missing = [r for r in required if r not in arguments]
        if missing:
            raise ValidationError(f"image op {position} ({name}) needs {missing}")
        positional = [arguments.pop(r) for r in required]
        image = function(image, *positional, **arguments)
    return image
