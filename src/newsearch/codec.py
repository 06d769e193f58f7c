"""Old import path of the Whoosh codec, kept for indexes already on disk.

Whoosh pickles each segment's codec into the table of contents: indexes written before the
``backends/`` layout say ``newsearch.codec.NewsCodec``. The codec lives in
:mod:`newsearch.backends.whoosh.codec`; nothing else belongs here.
"""

from .backends.whoosh.codec import NewsCodec

__all__ = ["NewsCodec"]
