"""asyncio's debug mode in the server, when PYTHONASYNCIODEBUG asks for it.

Python documents PYTHONASYNCIODEBUG as turning on the event loop's debug mode, in which
every callback that holds the loop ``slow_callback_duration`` (100 ms) or more is logged
("Executing … took 0.4 seconds"): the server's own account of a stall, whatever else the
machine runs (tests/browser/test_office_loop.py reads it). But uvicorn on Python 3.11
runs the app with ``asyncio.Runner(debug=False)``, which turns debug mode off again: the
log stayed silent while a cards page drew its QR codes on the loop for 0.4 s. So the app
turns it back on at startup, and says so in the log, so a test can tell a silent log
from a log that was never written.
"""

from __future__ import annotations

import asyncio
import logging
import os

SLOW_CALLBACK_S = 0.1
ANNOUNCE = "asyncio debug mode on: callbacks holding the loop {ms} ms or more are logged"

log = logging.getLogger(__name__)


def from_env() -> bool:
    """Turn the running loop's debug mode on if PYTHONASYNCIODEBUG is set (non-empty)."""
    if not os.environ.get("PYTHONASYNCIODEBUG"):
        return False
    loop = asyncio.get_running_loop()
    loop.set_debug(True)
    loop.slow_callback_duration = SLOW_CALLBACK_S
    logging.getLogger("asyncio").setLevel(logging.WARNING)
    log.warning(ANNOUNCE.format(ms=round(SLOW_CALLBACK_S * 1000)))
    return True
