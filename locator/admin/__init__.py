"""Admin logic without Flask: accounts, editing, the import wizard, data quality."""
