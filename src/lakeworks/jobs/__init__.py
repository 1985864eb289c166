"""Jobs: specs, records, the supervisor that runs them on a backend."""
