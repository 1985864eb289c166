"""The wire contract (pydantic), one module per domain. Imports only ``core``."""
