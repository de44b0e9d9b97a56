"""newsdesk: a message-driven news ingestion pipeline (Prefect + spaCy + DuckLake)."""

__version__ = "0.1.0"
