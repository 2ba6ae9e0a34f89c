"""Drivers: one module per job. They wire stages, actors and adapters; no business rules live here."""
