"""Seat-map tiles: pre-rendered base pyramids with live availability composited per request.

Public entry points: `tileserver.render.prerender.ensure_pyramid` (render a venue's
pyramid once), `tileserver.service.TileService` (the HTTP service) and
`tileserver.app.create_app` (the service as its own ASGI app).
"""
