"""Endpoint configs: the checks a config must pass beyond its schema.

A config lists 1–10 production variants (each a model on a number of instances, with a weight)
and optionally shadow variants (they receive a copy of the traffic; their answers are discarded),
a DataCaptureConfig and an AsyncInferenceConfig. Serverless variants are accepted and stored; until
the serverless work lands, a serverless variant runs as one always-on instance.
"""

from __future__ import annotations

from collections.abc import Callable

from lakeworks.core.errors import ValidationError
from lakeworks.hosting.variants import MAX_INSTANCES_PER_VARIANT
from lakeworks.schemas.hosting import EndpointConfigCreate, ProductionVariant

__all__ = ["all_variants", "check_endpoint_config"]

#: Mime types AWS allows in CaptureContentTypeHeader (type/subtype, ASCII, no parameters).
_MAX_TYPE = 256


def all_variants(config: EndpointConfigCreate) -> list[ProductionVariant]:
    """Production variants, then shadow variants."""
    return [*config.production_variants, *(config.shadow_production_variants or [])]


def check_endpoint_config(
    config: EndpointConfigCreate, model_exists: Callable[[str], bool]
) -> None:
    """Check a config: unique variant names, known models, instance counts, capture types.

    Args:
        config: The config.
        model_exists: Whether a model of that name exists.

    Raises:
        ValidationError: Naming the variant (or field) and the rule.
    """
    variants = all_variants(config)
    names = [v.variant_name for v in variants]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValidationError(
            f"Variant names must be unique across ProductionVariants and "
            f"ShadowProductionVariants; repeated: {', '.join(duplicates)}"
        )
    if config.shadow_production_variants and len(config.production_variants) != 1:
        raise ValidationError(
            "ShadowProductionVariants need exactly one production variant (as on SageMaker)"
        )
    if not any(v.initial_variant_weight > 0 for v in config.production_variants):
        raise ValidationError("At least one production variant needs InitialVariantWeight > 0")
    for variant in variants:
        count = variant.initial_instance_count
        if count is not None and count > MAX_INSTANCES_PER_VARIANT:
            raise ValidationError(
                f"Variant {variant.variant_name!r}: InitialInstanceCount {count} is over the "
                f"limit of {MAX_INSTANCES_PER_VARIANT} instances per variant on this backend"
            )
        if not model_exists(variant.model_name):
            raise ValidationError(
                f"Could not find model {variant.model_name!r} (variant "
                f"{variant.variant_name!r}); create it with CreateModel first"
            )
    capture = config.data_capture_config
    if capture is not None and capture.capture_content_type_header is not None:
        header = capture.capture_content_type_header
        for kind in (header.csv_content_types or []) + (header.json_content_types or []):
            if not kind or len(kind) > _MAX_TYPE or "/" not in kind or not kind.isascii():
                raise ValidationError(
                    f"Invalid content type {kind!r} in CaptureContentTypeHeader: use type/subtype"
                )
