"""A digest of what an index holds, whatever its segments: to show that a change to the
indexing code writes the same index.

    .venv/bin/python bench/index_digest.py INDEX [INDEX ...]

Per index: sha1 over every indexed field's terms with their postings (article id, weight,
positions), over the stored fields, over the field lengths and over the date and cluster
columns, each keyed by article id (so two runs that cut their segments differently, or
number documents differently, compare equal when they hold the same articles). The
``added`` column (when each article was indexed) differs between any two runs and is
left out.
"""

from __future__ import annotations

import hashlib
import sys
from typing import Any

from whoosh import index as whoosh_index


def digest(path: str) -> dict[str, str]:
    ix = whoosh_index.open_dir(path)
    out: dict[str, Any] = {}
    with ix.reader() as r:
        ids = {d: f["id"] for d, f in r.iter_docs()}
        h = hashlib.sha1()
        for field in sorted(r.indexed_field_names()):
            fmt = r.schema[field].format
            positional = fmt.supports("positions")
            for btext in r.lexicon(field):
                m = r.postings(field, btext)
                postings = []
                while m.is_active():
                    if m.id() in ids:  # a deleted document's postings stay until a merge
                        postings.append((ids[m.id()], m.weight(),
                                         m.value_as("positions") if positional else None))
                    m.next()
                if postings:
                    h.update(repr((field, btext, sorted(postings))).encode())
        out["postings"] = h
        out["stored"] = hashlib.sha1(repr(sorted(
            (f["id"], sorted(f.items())) for _d, f in r.iter_docs())).encode())
        # A segment without a field has no length column for it (None): 0 all the same.
        fields = [f for f in ("title", "subtitle", "body", "author") if f in r.schema]
        out["lengths"] = hashlib.sha1(repr(sorted(
            (aid, [r.doc_field_length(d, f) or 0 for f in fields]) for d, aid in ids.items())
        ).encode())
        cols = {}
        for name in ("date", "cluster"):
            if r.has_column(name):
                col = r.column_reader(name)
                cols[name] = sorted((aid, col[d]) for d, aid in ids.items())
        out["columns"] = hashlib.sha1(repr(cols).encode())
        out["documents"] = str(len(ids))
    return {k: v if isinstance(v, str) else v.hexdigest()[:16] for k, v in out.items()}


def main() -> None:
    for path in sys.argv[1:]:
        d = digest(path)
        print(path, " ".join(f"{k} {v}" for k, v in d.items()))


if __name__ == "__main__":
    main()
