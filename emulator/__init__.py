"""A local DynamoDB + DynamoDB Streams emulator: exact, fast and free."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from contextlib import AbstractContextManager

__version__ = "0.1.0"


def serve(port: int = 0, **options: Any) -> AbstractContextManager[str]:
    """Run an emulator in a background thread; a context manager yielding its URL.

    `with emulator.serve(port=0) as url: ...`; `serve(functions={"name": handler})` runs
    `handler(event, context)` in this process as Lambda function `name`. See
    `emulator.serving.serve` for the options. Imported lazily, so that `import emulator`
    stays cheap.
    """
    from emulator.serving import serve as serve_in_thread

    return serve_in_thread(port, **options)


__all__ = ["__version__", "serve"]
