"""The HTTP and socket face: the ASGI app, sessions, limits, and one route module per page
family (``routes/``). Builds no SQL statement (the office's functions do): it holds the
engine, opens transactions and maps database errors to answers. Only the commands
(``server.cli``, ``server.bench``) import it.
"""
