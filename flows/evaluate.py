"""Prefect entrypoint of the evaluate flow (`newsdesk eval` runs it in-process).

The flow lives in the installed package, `newsdesk.flows.evaluate`.
"""

from newsdesk.flows.evaluate import evaluate

__all__ = ["evaluate"]
