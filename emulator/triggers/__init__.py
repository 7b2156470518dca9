"""Event source mappings: pollers, batching, retries, targets, runners."""
