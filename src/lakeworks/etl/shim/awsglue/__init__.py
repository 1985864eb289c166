"""Lakeworks' stand-in for AWS Glue's ``awsglue`` package inside Python-shell jobs."""
