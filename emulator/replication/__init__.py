"""Global-table replicas and replication to other endpoints (see manager.py, external.py)."""
