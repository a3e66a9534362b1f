"""Offline rendering: drawing a venue's base pyramid, label maps and sprites once.

Nothing here runs on the request path except `scene` geometry, which the
static-map and print outputs share.
"""
