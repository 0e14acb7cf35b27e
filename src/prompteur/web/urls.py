"""Where the web interface lives under the server: every page and link starts with PREFIX."""

PREFIX = "/ui"
