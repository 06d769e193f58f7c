from flask import Flask, jsonify, request

import newsearch

app = Flask(__name__)
index = newsearch.open_index()  # $NEWSEARCH_INDEX or ./index; one object serves every thread


@app.get("/search")
def search():
    try:
        results = index.search(request.args.get("q", ""), sections=request.args.getlist("section"),
                               page=request.args.get("page", 1, type=int))
    except newsearch.QueryError as exc:
        return jsonify(error=str(exc)), 400
    return jsonify(results.to_dict())
