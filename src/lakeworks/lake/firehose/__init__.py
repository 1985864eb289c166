"""Streaming ingestion (Kinesis Data Firehose compatible): delivery streams into the lake."""
