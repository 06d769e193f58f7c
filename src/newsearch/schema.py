"""Old import path of the Whoosh schema's field classes, kept for indexes already on disk.

Whoosh pickles the schema into the index, naming each field class by its module: indexes
written before the ``backends/`` layout say ``newsearch.schema.NewsText`` (and ``ExactID``,
``DateColumn``). The classes live in :mod:`newsearch.backends.whoosh.schema`; nothing else
belongs here.
"""

from .backends.whoosh.schema import DateColumn, ExactID, NewsText

__all__ = ["DateColumn", "ExactID", "NewsText"]
