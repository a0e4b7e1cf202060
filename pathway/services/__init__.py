"""Use cases, one module per concern; they reach storage only through pathway.ports."""
