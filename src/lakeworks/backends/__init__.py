"""Where jobs run: the Backend protocol, local processes, Ray (extra)."""
