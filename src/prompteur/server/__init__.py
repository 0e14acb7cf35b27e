"""The HTTP server: the library, labels, the gateway, runs and traces of prompteur projects.

`create_app` is in `server.app` (the API; `prompteur.app` adds the web pages); nothing heavy is
imported here, so that `server.keys` (used by `prompteur keys`) loads without FastAPI.
"""
