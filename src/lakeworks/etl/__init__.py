"""Glue-compatible Python-shell ETL jobs, run as jobs of job_type ``etl``."""
