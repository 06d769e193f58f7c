"""Search engines newsearch can keep its index in, besides the embedded Whoosh one.

    opensearch/   an OpenSearch cluster: mapping, bulk writer, manifest index, query DSL
                  compiler and aggregations (``pip install newsearch[opensearch]``)

A backend receives what the backend-neutral stages produce (:class:`~newsearch.article.Article`
records, analysed terms from :mod:`newsearch.analysis`, query plans from
:mod:`newsearch.plan`) and gives back plain results; it never changes them.
"""
