"""The data lake: object store, buckets and objects (later: catalog, SQL, events)."""
