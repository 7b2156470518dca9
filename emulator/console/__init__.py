"""The live web console at `GET /_emulator/console`: static pages (no build step, no CDN)
over small JSON endpoints and server-sent event streams under `/_emulator/console/api/`.

It sits beside `server.py` at the top layer: it reads through the AWS operations
(`wire.handle_call`), the admin endpoints' backend calls and the stream log, and adds no
state of its own beyond the open event streams (`ConsoleStreams`), which end when the
client goes away or the server shuts down.
"""

from __future__ import annotations

from emulator.console.routes import Console

__all__ = ["Console"]
