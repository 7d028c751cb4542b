"""Storage: the SQLAlchemy engine and sessions, the tables, their Alembic migrations, the state
enums, and the one reader of Rasa's tracker store (tracker.py).

Holds no business rule: the packages that own a table decide what goes in it."""
