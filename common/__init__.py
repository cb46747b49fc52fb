"""The ground floor every app may import: the error format and domain errors,
enqueue-after-commit by task name, shared filters, environment helpers, the
database-unavailable answer, the client's address and the database cache.

``common`` imports no project app; ``config`` (settings, urls, wsgi/asgi, the
Celery app) sits on top of everything.
"""
