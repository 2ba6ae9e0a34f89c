"""policy-ray: nightly ingestion of carrier policy documents into auditable Delta tables on Ray."""

__version__ = "0.1.0"
