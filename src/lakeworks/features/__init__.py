"""The feature store (SageMaker Feature Store): groups, online and offline stores, training sets."""
