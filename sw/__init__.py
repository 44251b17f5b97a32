"""fusesa sw package."""
