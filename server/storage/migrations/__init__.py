"""Alembic migrations of the schema (env.py, versions/). Run only by
server/storage/migrate.py, which nothing but storage and the commands import."""
