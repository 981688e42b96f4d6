"""Local cloud fixtures (see local/runtime)."""
