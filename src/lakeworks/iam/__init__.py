"""Principals and their credentials: bearer tokens and SigV4 access-key pairs."""
