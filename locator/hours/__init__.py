"""Opening hours: the OSM opening_hours grammar, its French description, the admin form."""
