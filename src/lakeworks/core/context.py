"""Who is asking: the request context every service operation receives."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from lakeworks.core.errors import AccessDenied

__all__ = ["SCOPES", "RequestContext", "expand_scopes"]

#: Scopes from weakest to strongest; each implies those before it.
SCOPES: tuple[str, ...] = ("read", "write", "admin")


def expand_scopes(scopes: set[str] | frozenset[str] | list[str]) -> frozenset[str]:
    """Return ``scopes`` plus every scope they imply (admin ⊇ write ⊇ read)."""
    top = max((SCOPES.index(s) for s in scopes if s in SCOPES), default=-1)
    return frozenset(SCOPES[: top + 1])


@dataclass(frozen=True)
class RequestContext:
    """The authenticated principal behind one operation.

    Attributes:
        principal: Principal name (``admin``, ``job/train-1`` …).
        scopes: Effective scopes, already expanded.
        request_id: Correlates logs and error responses.
    """

    principal: str
    scopes: frozenset[str]
    request_id: str = field(default_factory=lambda: uuid.uuid4().hex)

    def require(self, scope: str) -> None:
        """Raise :class:`AccessDenied` unless the principal holds ``scope``."""
        if scope not in self.scopes:
            raise AccessDenied(
                f"Principal {self.principal!r} needs the {scope!r} scope for this operation; "
                f"it has {sorted(self.scopes)}"
            )

    @classmethod
    def system(cls) -> RequestContext:
        """The server acting on its own behalf (supervisor, migrations)."""
        return cls(principal="system", scopes=frozenset(SCOPES))
