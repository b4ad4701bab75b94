"""Turning source files into store rows: reference geography, structures, coverage."""
