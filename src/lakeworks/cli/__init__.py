"""The ``lakeworks`` command line: one command module per domain, all on the SDK."""
