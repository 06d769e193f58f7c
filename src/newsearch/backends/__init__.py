"""The engines newsearch can keep its index in, one folder each; the stages outside this
package are backend-neutral and import no engine, and neither backend imports the other.

    whoosh/       the embedded default: the index in a folder (schema, segments, codec,
                  merges, the arrays view, plan evaluation, scoring, facets, ``NewsIndex``)
    opensearch/   an OpenSearch cluster: mapping, bulk writer, manifest index, query DSL
                  compiler and aggregations (``pip install newsearch[opensearch]``)

A backend receives what the backend-neutral stages produce (:class:`~newsearch.article.Article`
records, analysed terms from :mod:`newsearch.analysis`, index runs' plans from
:mod:`newsearch.runs`, query plans from :mod:`newsearch.plan`) and gives back plain results;
it never changes them. :mod:`newsearch.backend` chooses one.
"""
