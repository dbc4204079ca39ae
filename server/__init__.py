"""The Wenzheng server, in layers (docs/design.md, "The map"; tests/test_layers.py).

Top to bottom, each importing only what stands below it: ``cli`` and ``bench`` (the
commands) → ``web`` (HTTP and sockets) → ``room`` (a running meeting) | ``office`` (the
office's work; the two side by side never import each other) → ``storage`` → ``base``
→ ``screens`` → ``live``. Nothing below imports this package's upper layers.
"""
