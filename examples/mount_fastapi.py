from fastapi import FastAPI

from newsearch.web import create_app

app = FastAPI()
app.mount("/news", create_app())  # the search page at /news/, the API at /news/api/...
