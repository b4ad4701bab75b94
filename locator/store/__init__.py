"""The store: the only package that writes SQL. Reads take a sqlite3 connection explicitly."""
