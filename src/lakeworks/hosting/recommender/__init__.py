"""Inference recommender: load tests of a model over endpoint configurations (SageMaker's
Inference Recommender, light)."""
