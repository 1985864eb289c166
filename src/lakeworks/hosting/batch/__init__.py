"""Batch transform: transform jobs that run a hosted model over objects in the lake.

``service`` (the operations), ``store`` (its table), ``kind`` (staging and uploading around the
job), ``runner`` (the in-job process) and ``records`` (pure record handling: split, batch,
JSONPath filters, join, assemble).
"""
