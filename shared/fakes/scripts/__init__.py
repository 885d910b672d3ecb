"""Per-role scripts of the scripted model, and what they share."""
