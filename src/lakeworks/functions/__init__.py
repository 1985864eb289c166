"""Lambda-compatible functions: Python handlers run in isolated processes."""
