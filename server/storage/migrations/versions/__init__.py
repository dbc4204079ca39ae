"""Alembic revisions: one module each, applied in order by server/storage/migrate.py;
nothing imports them."""
