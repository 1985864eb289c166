"""Automatic model tuning: search spaces, strategies, and tuning jobs that run trials as
training jobs."""
