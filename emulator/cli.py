"""`python -m emulator` / `ddb-emulator`: parse flags, start uvicorn."""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence

from emulator.config import parse_config


def main(argv: Sequence[str] | None = None) -> None:
    config = parse_config(argv)
    import uvicorn

    from emulator.server import create_app

    logging.basicConfig(
        level=config.log_level.upper(),
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
    )
    app = create_app(config)
    storage = f"persistent in {config.data_dir}" if config.data_dir else "in-memory"
    logging.getLogger("emulator").info(
        "DynamoDB + Streams emulator on http://%s:%d (%s, region %s)",
        config.host,
        config.port,
        storage,
        config.region,
    )
    uvicorn.run(
        app,
        host=config.host,
        port=config.port,
        log_level=config.log_level.lower(),
        access_log=False,
        lifespan="on",
        ws="none",  # no websockets: skips importing them, which start-up time pays for
        timeout_graceful_shutdown=10,
    )
