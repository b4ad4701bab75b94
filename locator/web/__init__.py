"""HTTP layer: the only package that touches Flask request objects."""
