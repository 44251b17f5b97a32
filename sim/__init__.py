"""fusesa sim package."""
