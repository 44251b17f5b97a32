"""fusesa hw package."""
