"""`python -m server.cli`: the `wenzheng` command without its script (the bench uses it)."""

from server.cli import main

raise SystemExit(main())
