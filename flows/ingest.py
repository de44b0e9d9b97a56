"""Prefect entrypoint of the ingest deployment (deploy/prefect.yaml: flows/ingest.py:ingest).

The flow lives in the installed package, `newsdesk.flows.ingest`; this file
only names it for Prefect's file-path entrypoints.
"""

from newsdesk.flows.ingest import ingest

__all__ = ["ingest"]
