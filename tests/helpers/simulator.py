"""Simulator fixtures (see local/simulator)."""
