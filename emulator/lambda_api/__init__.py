"""The Lambda API subset on the emulator's port (REST-JSON, version 2015-03-31):
functions and Invoke, and event source mappings (SPEC-STREAM-APPS 2).

`http.serve` is the entry point the server routes `/2015-03-31/...` to; one module per
resource (`functions`, `invoke`, `mappings`), one function per operation.
"""
