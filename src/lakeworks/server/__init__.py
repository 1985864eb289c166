"""The HTTP server: native REST API and AWS-compatible front door on one port."""
