"""Automatic model tuning: search strategies and tuning jobs over training jobs."""
