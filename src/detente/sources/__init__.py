"""Open datasets (CAMEO, GDELT, UCDP, ...) loaded into the context lake, with provenance."""
