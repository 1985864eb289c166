"""The autoscaling controller: a background thread that applies scaling policies.

Every ``hosting.autoscaling_interval_seconds`` it takes, for each registered target, a snapshot
of the variant's counters (:mod:`lakeworks.hosting.autoscaling.metrics`) and keeps those of the
last ``hosting.autoscaling_window_seconds``. Then, for a target whose endpoint is InService and
that has no scaling in progress, it asks each policy for a decision
(:func:`~lakeworks.hosting.autoscaling.decision.decide` on the policy's metric points), combines
them, and when the capacity should change calls
:meth:`HostingService.update_endpoint_weights_and_capacities` and records an ``InProgress``
activity. The activity becomes ``Successful`` once the endpoint is InService with that many
instances, or ``Failed`` with the reason.

A step scaling policy that a CloudWatch alarm names in its actions (the AWS recipe) runs only
when an alarm runs it: :meth:`AutoscalingController.signal` keeps the alarm's threshold and
latest datapoint, and the next pass decides with
:func:`~lakeworks.hosting.autoscaling.decision.alarm_step` (one decision per signal; a signal
not used within the alarm's period plus two intervals is dropped — the alarm sends a fresh one
every period it stays in its state). A step policy no alarm names keeps the native path: the
policy's metric (default ``InvocationsPerInstance``) against a threshold (default 0), see
:class:`~lakeworks.schemas.autoscaling.StepAlarm`. For an
asynchronous endpoint each snapshot also holds its queue's backlog
(:meth:`~lakeworks.hosting.async_inference.AsyncInference.backlog`).

Samples live in memory: after a restart a target needs a window of fresh samples before
policies act on it again (the state that matters — targets, policies, last scaling times,
activities — is in the database).
"""

from __future__ import annotations

import itertools
import logging
import threading
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from lakeworks.core.context import RequestContext
from lakeworks.core.errors import LakeworksError, NotFound, ValidationError
from lakeworks.db import Database
from lakeworks.hosting.autoscaling import store
from lakeworks.hosting.autoscaling.decision import (
    Capacity,
    Decision,
    LastScaling,
    MetricPoint,
    Step,
    StepPolicy,
    TargetTrackingPolicy,
    alarm_step,
    combine,
    decide,
)
from lakeworks.hosting.autoscaling.metrics import MetricRef, Snapshot, metric_of, point, snapshot
from lakeworks.hosting.service import HostingService
from lakeworks.schemas.autoscaling import ScalingPolicyPut
from lakeworks.schemas.hosting import (
    DesiredWeightAndCapacity,
    EndpointInfo,
    EndpointWeightsUpdate,
    ProductionVariantSummary,
)

__all__ = ["AlarmSignal", "AutoscalingController", "policy_of", "step_policy_of"]

log = logging.getLogger("lakeworks.hosting.autoscaling")

_SYSTEM = RequestContext.system()
#: AWS's default cooldown for SageMaker variants.
DEFAULT_COOLDOWN = 300.0


def step_policy_of(spec: ScalingPolicyPut) -> StepPolicy:
    """The decision's view of a StepScaling policy.

    Raises:
        ValidationError: Steps AWS also refuses: none, inverted bounds, overlapping or gapped
            intervals, negative exact capacities.
    """
    config = spec.step_scaling_policy_configuration
    assert config is not None
    if not config.step_adjustments:
        raise ValidationError("StepScalingPolicyConfiguration needs at least one StepAdjustment")
    steps = sorted(
        (
            Step(s.scaling_adjustment, s.metric_interval_lower_bound, s.metric_interval_upper_bound)
            for s in config.step_adjustments
        ),
        key=lambda s: float("-inf") if s.lower is None else s.lower,
    )
    for step in steps:
        if step.lower is not None and step.upper is not None and step.lower >= step.upper:
            raise ValidationError(
                f"Step adjustment bounds: lower bound {step.lower} must be below the upper "
                f"bound {step.upper}"
            )
    for left, right in itertools.pairwise(steps):
        if left.upper is None or right.lower is None or left.upper != right.lower:
            raise ValidationError(
                "Step adjustments must not overlap or leave gaps: each upper bound must equal "
                "the next step's lower bound, and only the first/last may be unbounded"
            )
    if config.adjustment_type == "ExactCapacity" and any(s.adjustment < 0 for s in steps):
        raise ValidationError("ExactCapacity step adjustments must not be negative")
    if (
        config.min_adjustment_magnitude is not None
        and config.adjustment_type != "PercentChangeInCapacity"
    ):
        raise ValidationError(
            "MinAdjustmentMagnitude applies only to AdjustmentType PercentChangeInCapacity"
        )
    alarm = spec.step_alarm
    return StepPolicy(
        steps=tuple(steps),
        threshold=alarm.threshold if alarm else 0.0,
        adjustment_type=config.adjustment_type,
        min_adjustment_magnitude=config.min_adjustment_magnitude,
        cooldown=float(config.cooldown if config.cooldown is not None else DEFAULT_COOLDOWN),
        aggregation=config.metric_aggregation_type or "Average",
    )


def policy_of(
    spec: ScalingPolicyPut, endpoint: str, variant: str
) -> tuple[TargetTrackingPolicy | StepPolicy, MetricRef]:
    """A stored policy as the decision sees it, and the metric it follows."""
    tracking = spec.target_tracking_scaling_policy_configuration
    if tracking is not None:
        predefined = tracking.predefined_metric_specification
        metric = metric_of(
            predefined.predefined_metric_type if predefined else None,
            tracking.customized_metric_specification,
            endpoint,
            variant,
        )
        out = tracking.scale_out_cooldown
        scale_in = tracking.scale_in_cooldown
        return TargetTrackingPolicy(
            target_value=tracking.target_value,
            scale_out_cooldown=float(out if out is not None else DEFAULT_COOLDOWN),
            scale_in_cooldown=float(scale_in if scale_in is not None else DEFAULT_COOLDOWN),
            disable_scale_in=bool(tracking.disable_scale_in),
        ), metric
    alarm_metric = spec.step_alarm.metric if spec.step_alarm else None
    return step_policy_of(spec), metric_of(None, alarm_metric, endpoint, variant)


@dataclass(frozen=True)
class AlarmSignal:
    """An alarm ran a step policy: its threshold and latest datapoint, and when."""

    alarm_name: str
    state: str
    threshold: float
    value: float
    time: datetime
    #: The alarm's period (seconds): how long the signal stays fresh, plus two intervals.
    period: float


def _variant(info: EndpointInfo, name: str) -> ProductionVariantSummary | None:
    return next((v for v in info.production_variants if v.variant_name == name), None)


class AutoscalingController:
    """Samples metrics and applies scaling policies (see the module docstring).

    Args:
        db: The metadata database.
        hosting: Reads endpoints and metrics, sets desired instance counts.
        clock: Current UTC time.
        interval: Seconds between passes.
        window: Seconds of samples a decision looks at.
    """

    def __init__(
        self,
        db: Database,
        hosting: HostingService,
        clock: Callable[[], datetime],
        *,
        interval: float,
        window: float,
    ) -> None:
        self.db = db
        self.hosting = hosting
        self.clock = clock
        self.interval = interval
        self.window = window
        self._snapshots: dict[str, deque[Snapshot]] = {}
        self._signals: dict[str, AlarmSignal] = {}
        self._signals_lock = threading.Lock()
        self._wake = threading.Event()
        self._closing = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Start the controller thread."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="lakeworks-autoscaling", daemon=True
            )
            self._thread.start()

    def close(self) -> None:
        """Stop the thread (waits for the pass in progress)."""
        self._closing.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
            self._thread = None

    def wake(self) -> None:
        """Run a pass soon (a target or policy changed)."""
        self._wake.set()

    def signal(self, policy_arn: str, signal: AlarmSignal) -> None:
        """An alarm runs the step policy ``policy_arn``; the next pass (soon) applies it."""
        with self._signals_lock:
            self._signals[policy_arn] = signal
        self.wake()

    def _take_signal(self, policy_arn: str, now: datetime) -> AlarmSignal | None:
        with self._signals_lock:
            signal = self._signals.pop(policy_arn, None)
        if signal is None:
            return None
        fresh = signal.period + 2 * max(self.interval, 0.5)
        return signal if (now - signal.time).total_seconds() <= fresh else None

    def _run(self) -> None:
        while not self._closing.is_set():
            try:
                self.run_once()
            except Exception:  # a bug must not stop autoscaling for good
                log.exception("autoscaling pass failed")
            self._wake.wait(self.interval)
            self._wake.clear()

    def run_once(self) -> None:
        """One pass over every registered target."""
        with self.db.session() as session:
            targets = list(session.query(store.TargetRecord).all())
        known = {t.resource_id for t in targets}
        for resource_id in [r for r in self._snapshots if r not in known]:
            del self._snapshots[resource_id]
        linked = set(self.hosting.alarms.actions_index())
        for target in targets:
            try:
                self._pass(target, linked)
            except LakeworksError as exc:
                log.warning("autoscaling %s: %s", target.resource_id, exc.message)

    def _sample(
        self, target: store.TargetRecord, instances: int, backlog: int, now: datetime
    ) -> None:
        series = [
            s
            for s in self.hosting.metrics.of_endpoint(target.endpoint_name)
            if s.variant == target.variant_name
        ]
        history = self._snapshots.setdefault(target.resource_id, deque())
        history.append(snapshot(series, instances, now, backlog))
        # Keep one snapshot older than the window: the first point starts there.
        while len(history) > 2 and (now - history[1].time).total_seconds() >= self.window:
            history.popleft()

    def _points(self, resource_id: str, metric: MetricRef) -> list[MetricPoint]:
        history = list(self._snapshots.get(resource_id, ()))
        points = []
        for before, after in itertools.pairwise(history):
            value = point(metric, before, after)
            if value is not None:
                points.append(MetricPoint(after.time, value))
        return points

    def _pass(self, target: store.TargetRecord, linked: set[str]) -> None:
        now = self.clock()
        try:
            info = self.hosting.describe_endpoint(_SYSTEM, target.endpoint_name)
        except NotFound:
            self._snapshots.pop(target.resource_id, None)
            return
        variant = _variant(info, target.variant_name)
        if variant is None:
            return
        backlog = (
            self.hosting.async_inference.backlog(target.endpoint_name)
            if info.async_inference_config is not None
            else 0
        )
        self._sample(target, variant.current_instance_count or 0, backlog, now)
        if self._settle(target, info, variant, now):
            return  # a scaling is still in progress
        if info.endpoint_status != "InService" or variant.desired_instance_count is None:
            return
        capacity = Capacity(
            variant.desired_instance_count, target.min_capacity, target.max_capacity
        )
        last = LastScaling(target.last_scale_out, target.last_scale_in)
        with self.db.session() as session:
            policies = list(store.policies_of(session, target.resource_id))
        named: list[tuple[str, Decision]] = []
        for record in policies:
            spec = ScalingPolicyPut(**record.spec)
            if record.policy_type == "StepScaling" and record.arn in linked:
                fired = self._take_signal(record.arn, now)
                if fired is not None:
                    step = alarm_step(
                        step_policy_of(spec), fired.threshold, fired.value, capacity, last, now
                    )
                    named.append(
                        (
                            f"monitor alarm {fired.alarm_name} in state {fired.state} "
                            f"triggered policy {record.name}",
                            step,
                        )
                    )
                continue
            policy, metric = policy_of(spec, target.endpoint_name, target.variant_name)
            points = self._points(target.resource_id, metric)
            named.append((f"policy {record.name}", decide(policy, points, capacity, last, now)))
        decision = combine([d for _, d in named], capacity)
        suspended = target.suspended
        if (
            decision.direction == "none"
            or (decision.direction == "out" and suspended.get("dynamic_scaling_out_suspended"))
            or (decision.direction == "in" and suspended.get("dynamic_scaling_in_suspended"))
        ):
            return
        cause_policy = next((n for n, d in named if d is decision), None)
        cause = (
            f"{cause_policy}: {decision.reason}"
            if cause_policy
            else f"capacity outside the registered range: {decision.reason}"
        )
        self._scale(target, decision, cause, now)

    def _scale(
        self, target: store.TargetRecord, decision: Decision, cause: str, now: datetime
    ) -> None:
        status, message = "InProgress", None
        try:
            self.hosting.update_endpoint_weights_and_capacities(
                _SYSTEM,
                target.endpoint_name,
                EndpointWeightsUpdate(
                    desired_weights_and_capacities=[
                        DesiredWeightAndCapacity(
                            variant_name=target.variant_name,
                            desired_instance_count=decision.desired,
                        )
                    ]
                ),
            )
        except LakeworksError as exc:
            status, message = "Failed", f"Failed to set desired instance count: {exc.message}"
        with self.db.session() as session:
            session.add(
                store.ActivityRecord(
                    id=str(uuid.uuid4()),
                    resource_id=target.resource_id,
                    description=f"Setting desired instance count to {decision.desired}.",
                    cause=cause,
                    desired=decision.desired,
                    status=status,
                    status_message=message,
                    start_time=now,
                    end_time=now if status == "Failed" else None,
                )
            )
            record = session.get(store.TargetRecord, target.resource_id)
            if record is not None and status == "InProgress":
                if decision.direction == "out":
                    record.last_scale_out = now
                else:
                    record.last_scale_in = now
        log.info("autoscaling %s: %s (%s)", target.resource_id, decision.reason, status)

    def _settle(
        self,
        target: store.TargetRecord,
        info: EndpointInfo,
        variant: ProductionVariantSummary,
        now: datetime,
    ) -> bool:
        """Finish the target's in-progress activities; whether one is still in progress."""
        pending = False
        with self.db.session() as session:
            for activity in store.activities_of(session, target.resource_id):
                if activity.status != "InProgress":
                    continue
                if info.endpoint_status == "Failed":
                    activity.status = "Failed"
                    activity.status_message = info.failure_reason or "The endpoint failed"
                elif (
                    info.endpoint_status == "InService"
                    and variant.current_instance_count == activity.desired
                ):
                    activity.status = "Successful"
                    activity.status_message = (
                        f"Successfully set desired instance count to {activity.desired}. "
                        "Change successfully fulfilled by sagemaker."
                    )
                elif info.endpoint_status == "InService":
                    activity.status = "Overridden"
                    activity.status_message = (
                        f"The instance count is {variant.current_instance_count}: another "
                        "change overrode this one"
                    )
                else:
                    pending = True
                    continue
                activity.end_time = now
        return pending
