"""Prefect entrypoint of the maintain deployment (deploy/prefect.yaml: flows/maintain.py:maintain).

The flow lives in the installed package, `newsdesk.flows.maintain`.
"""

from newsdesk.flows.maintain import maintain

__all__ = ["maintain"]
