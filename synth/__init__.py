"""fusesa synth package."""
