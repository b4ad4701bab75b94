"""Pure geography helpers: codes, names, distances; heavy libraries load lazily."""
