"""Vetting: screen people, organisations, units and vessels against the loaded sanctions
lists and conflict records, with the evidence for every candidate."""
