"""Where an invocation goes: a variant by weight, then an instance by least outstanding requests.

An endpoint's :class:`RouteTable` lists its production variants (and shadow variants) as
:class:`VariantRoute`\\ s, each with its weight and the :class:`VariantPool`\\ s that serve it.
Normally a variant has one pool, the instances of the endpoint's fleet; while a deployment moves
traffic from an old fleet to a new one a variant has two, each with its share of the variant's
traffic (the deployment work shifts these shares; see :func:`with_pool_shares`).

Route tables are immutable: the server thread that changes an endpoint publishes a new table
(one reference assignment), and the event loop reads whatever table is current. Only the
per-instance ``outstanding`` counters change in place, on the event loop. Choices take their
random numbers as arguments, so they are tested without randomness.
"""

from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass, field, replace
from typing import Any

from lakeworks.core.errors import ValidationError
from lakeworks.hosting.http1 import ConnectionPool

__all__ = [
    "RouteTable",
    "Target",
    "VariantPool",
    "VariantRoute",
    "choose_pool",
    "choose_variant",
    "with_pool_shares",
    "with_weights",
]


class Target:
    """One running model server: its address, connections and requests in flight.

    Args:
        instance_id: The instance (stable across restarts).
        host: Its host.
        port: Its port (a restarted instance is a new target on a new port).
    """

    __slots__ = ("dead", "host", "instance_id", "outstanding", "pool", "port")

    def __init__(self, instance_id: str, host: str, port: int) -> None:
        self.instance_id = instance_id
        self.host = host
        self.port = port
        self.outstanding = 0
        self.dead = False
        self.pool = ConnectionPool(host, port)

    def __repr__(self) -> str:
        return f"Target({self.instance_id!r}, {self.host}:{self.port}, {self.outstanding})"


@dataclass(frozen=True)
class VariantPool:
    """The running instances of one variant in one fleet.

    Attributes:
        variant_name: The variant.
        fleet_id: The fleet the instances belong to.
        targets: The instances answering now.
        container: Hostname of the first container (names the model in errors).
        multi_model: Stages target models for a multi-model variant (else None).
    """

    variant_name: str
    fleet_id: str
    targets: tuple[Target, ...]
    container: str = "primary"
    multi_model: Any = None
    _turn: itertools.count[int] = field(default_factory=itertools.count, compare=False)

    def pick(self) -> Target | None:
        """The live target with the fewest requests in flight; ties taken in turn."""
        live = [t for t in self.targets if not t.dead]
        if not live:
            return None
        fewest = min(t.outstanding for t in live)
        candidates = [t for t in live if t.outstanding == fewest]
        return candidates[next(self._turn) % len(candidates)]


@dataclass(frozen=True)
class VariantRoute:
    """A variant's weight and the pools that serve it with their shares of its traffic."""

    name: str
    weight: float
    pools: tuple[tuple[VariantPool, float], ...] = ()

    @property
    def instance_count(self) -> int:
        """Instances serving the variant now (all pools)."""
        return sum(len(pool.targets) for pool, _ in self.pools)


@dataclass(frozen=True)
class RouteTable:
    """Everything the request path needs about one endpoint.

    Attributes:
        endpoint: The endpoint's name.
        status: Its status (only InService and Updating endpoints are invoked).
        variants: Production variants, in config order.
        shadows: Shadow variants (receive a copy of the traffic; answers discarded).
        capture: The capture policy (:class:`~lakeworks.hosting.capture.CapturePolicy`) or None.
    """

    endpoint: str
    status: str
    variants: tuple[VariantRoute, ...] = ()
    shadows: tuple[VariantRoute, ...] = ()
    capture: Any = None

    def variant(self, name: str) -> VariantRoute | None:
        """The production variant named ``name``."""
        return next((v for v in self.variants if v.name == name), None)


def choose_variant(table: RouteTable, target_variant: str | None, r: float) -> VariantRoute:
    """The production variant for one request: ``target_variant``, else by weight.

    Args:
        table: The endpoint's routes.
        target_variant: The request's ``TargetVariant`` (None to route by weight).
        r: A uniform random number in [0, 1).

    Raises:
        ValidationError: Unknown TargetVariant, or every weight is zero.
    """
    if target_variant is not None:
        route = table.variant(target_variant)
        if route is None:
            names = ", ".join(v.name for v in table.variants)
            raise ValidationError(
                f"The variant {target_variant!r} is not present in endpoint "
                f"{table.endpoint}; variants: {names}",
                aws_code="ValidationError",
            )
        return route
    weights = list(itertools.accumulate(max(0.0, v.weight) for v in table.variants))
    if not weights or weights[-1] <= 0:
        raise ValidationError(
            f"Every production variant of endpoint {table.endpoint} has weight 0; set a weight "
            "with UpdateEndpointWeightsAndCapacities or name a TargetVariant",
            aws_code="ValidationError",
        )
    index = bisect.bisect_right(weights, r * weights[-1])
    return table.variants[min(index, len(table.variants) - 1)]


def choose_pool(route: VariantRoute, r: float) -> VariantPool | None:
    """The pool of ``route`` for one request by the pools' shares (None when it has none)."""
    pools = [(pool, share) for pool, share in route.pools if share > 0 and pool.targets]
    if not pools:
        pools = [(pool, 1.0) for pool, _ in route.pools if pool.targets]
    if not pools:
        return None
    shares = list(itertools.accumulate(share for _, share in pools))
    index = bisect.bisect_right(shares, r * shares[-1])
    return pools[min(index, len(pools) - 1)][0]


def with_weights(table: RouteTable, weights: dict[str, float]) -> RouteTable:
    """A copy of ``table`` with new variant weights (variants not named keep theirs)."""
    return replace(
        table,
        variants=tuple(replace(v, weight=weights.get(v.name, v.weight)) for v in table.variants),
        shadows=tuple(replace(v, weight=weights.get(v.name, v.weight)) for v in table.shadows),
    )


def with_pool_shares(route: VariantRoute, shares: dict[str, float]) -> VariantRoute:
    """A copy of ``route`` whose pools get new traffic shares by fleet id (for deployments)."""
    return replace(
        route,
        pools=tuple((pool, shares.get(pool.fleet_id, share)) for pool, share in route.pools),
    )
