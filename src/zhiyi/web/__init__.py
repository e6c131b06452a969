"""Server-rendered pages: templates, static assets, page helpers."""
