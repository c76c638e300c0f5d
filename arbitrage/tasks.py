"""django-q2 entry points: a few lines each; the work lives in services."""


def ping() -> str:
    """Health check: proves a worker picked a task from the broker and ran it."""
    return "pong"
