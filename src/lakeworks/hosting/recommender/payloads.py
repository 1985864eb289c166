"""Sample payloads of an inference recommendations job: a tar.gz in the lake, one request body
per file.

The archive comes from a user, so it is extracted with :func:`lakeworks.jobs.archives.safe_extract`
(every member checked first: no absolute names, ``..``, links or devices; count and size
limits; nothing written on refusal), and each payload must fit an invocation (6 MB).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import NotFound, ValidationError
from lakeworks.hosting.artifacts import ArtifactSource
from lakeworks.hosting.runtime import MAX_PAYLOAD_BYTES
from lakeworks.jobs.archives import UnsafeArchive, safe_extract

__all__ = ["MAX_PAYLOADS", "load_payloads"]

MAX_PAYLOADS = 1000
_PAYLOAD_FIELD = "InputConfig.ContainerConfig.PayloadConfig.SamplePayloadUrl"


def load_payloads(lake: ArtifactSource, ctx: RequestContext, uri: str) -> list[bytes]:
    """The sample payloads in the tar.gz at ``uri``: one request body per regular file.

    Raises:
        ValidationError: Missing object, unsafe or unreadable archive, no payloads, too many or
            too large ones (the message names the field and the rule).
    """
    with tempfile.TemporaryDirectory(prefix="lakeworks-payloads-") as tmp:
        archive, dest = Path(tmp) / "payloads.tar.gz", Path(tmp) / "payloads"
        try:
            lake.download(ctx, uri, archive)
        except NotFound:
            raise ValidationError(
                f"{_PAYLOAD_FIELD}: no object at {uri}; upload a tar.gz of sample payloads there",
                details={"field": _PAYLOAD_FIELD},
            ) from None
        if not archive.is_file():
            raise ValidationError(
                f"{_PAYLOAD_FIELD}: {uri} is a prefix; give the URI of one tar.gz object",
                details={"field": _PAYLOAD_FIELD},
            )
        try:
            safe_extract(
                archive,
                dest,
                max_members=MAX_PAYLOADS,
                max_bytes=MAX_PAYLOADS * MAX_PAYLOAD_BYTES,
            )
        except UnsafeArchive as exc:
            raise ValidationError(
                f"{_PAYLOAD_FIELD}: {exc.message}", details={"field": _PAYLOAD_FIELD}
            ) from None
        files = sorted(p for p in dest.rglob("*") if p.is_file())
        if not files:
            raise ValidationError(
                f"{_PAYLOAD_FIELD}: the archive at {uri} holds no files; put one request body "
                "per file in it",
                details={"field": _PAYLOAD_FIELD},
            )
        for path in files:
            if path.stat().st_size > MAX_PAYLOAD_BYTES:
                raise ValidationError(
                    f"{_PAYLOAD_FIELD}: payload {path.relative_to(dest)} is over the "
                    f"{MAX_PAYLOAD_BYTES}-byte limit of an invocation",
                    details={"field": _PAYLOAD_FIELD},
                )
        return [path.read_bytes() for path in files]
