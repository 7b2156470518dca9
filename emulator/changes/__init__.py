"""The change pipeline: the typed `Change`, the sinks run in the write's transaction, and
the pipeline that chooses how a write is stored."""
