"""Storage: the SQLAlchemy engine and sessions, the tables, and their Alembic migrations.

Holds no business rule: the packages that own a table decide what goes in it."""
