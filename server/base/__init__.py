"""The installation's settings and secrets, and pure parsing: what every layer needs.

``settings`` (the environment), ``keys`` (signed cookies, invitation links, hall codes,
CSRF tokens, password hashes), ``ballot_box`` (sealing secret choices), ``parse`` (every
typed value and command from a form), ``presence`` (the hall's network). No I/O but the
secret key's file. Any server layer may import it; it imports only ``live`` and third
parties.
"""
