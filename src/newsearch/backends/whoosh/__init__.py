"""The embedded backend: the index in a folder, written and read through Whoosh 2.7.4.

    storage      the index folder: which files are newsearch's, create, open, check, lock
    schema       the Whoosh schema and its version, pre-analysed field values
    analyzer     the analysis chain as a Whoosh analyzer (pickled into the schema)
    segments     worker processes that read, analyse and write segments within a budget
    codec        postings on disk as fixed-width arrays read through a memory map
    merge        merging segments by array operations, in size tiers
    indexer      an index run's storage side: open or create, commit, leftovers
    view         an index generation as arrays (dates, lengths, sections, postings)
    evaluate     a query plan as a mask over the view's documents
    scoring      BM25F and recency over the view (newsearch.ranking's formulas)
    facets       section, language and date counts over all hits
    index        ``NewsIndex``: one search from start to end over the view
    stats        ``newsearch stats`` of a folder

Only this package imports ``whoosh``; the stages outside ``backends/`` never import it.
"""
