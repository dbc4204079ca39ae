"""CPU cost of one access-log line: RequestLog around a trivial ASGI app, bare vs wrapped,
the line written to a file with the formatter `wenzheng serve` uses (docs/design.md, "Logs").

    .venv/bin/python scripts/request_log_cost.py [text|json]
"""

from __future__ import annotations

import asyncio
import logging.config
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from server.web.request_log import RequestLog, log_config


async def app(scope: Any, receive: Any, send: Any) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": [(b"content-type", b"text/html")]})
    await send({"type": "http.response.body", "body": b"ok"})


async def receive() -> dict[str, Any]:
    return {"type": "http.request", "body": b"", "more_body": False}


async def send(message: Any) -> None:
    pass


def scope() -> dict[str, Any]:
    return {
        "type": "http",
        "method": "POST",
        "path": "/d/3/rate",
        "raw_path": b"/d/3/rate",
        "query_string": b"",
        "headers": [],
        "client": ("10.0.0.7", 5555),
    }


async def cpu_us_per_call(target: Any, n: int) -> float:
    started = time.process_time()
    for _ in range(n):
        await target(scope(), receive, send)
    return (time.process_time() - started) / n * 1e6


async def main(log_format: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        config = log_config(log_format, "info")
        config["handlers"]["access"] = {
            "class": "logging.FileHandler",
            "filename": str(Path(folder) / "access.log"),
            "formatter": log_format,
        }
        logging.config.dictConfig(config)
        wrapped = RequestLog(app)
        bare = min([await cpu_us_per_call(app, 30_000) for _ in range(5)])
        logged = min([await cpu_us_per_call(wrapped, 30_000) for _ in range(5)])
        logging.shutdown()
    print(f"{log_format}: {logged - bare:.1f} µs of CPU per request (bare {bare:.1f}, logged {logged:.1f})")


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "text"))
