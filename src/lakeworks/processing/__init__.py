"""Processing jobs (SageMaker processing), recipes as a resource, recipe and profile jobs."""
