"""A running meeting in this process: the one action path and its screens.

``runtime`` (decide → commit → publish, the group commit), ``hub`` (sockets and the
fan-out of fragments), ``meetings`` (the registry of loaded meetings and their cards),
``phonebook`` (which phone holds each card, here), ``bus`` (other processes), and the
sending machinery (``eager``, ``fastsend``, ``groupwrite``, ``gcpolicy``). The web face and
the commands may import it; it imports ``storage``, ``base``, ``screens`` and ``live``,
never ``office``.
"""
