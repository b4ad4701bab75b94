"""What leaves the store: serializers and exports (CSV for spreadsheets, GeoJSON, data·inclusion)."""
