"""Bucket event notifications: configurations, a durable delivery queue and its worker."""
