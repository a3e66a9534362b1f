"""The application: assembles the tile server, lock service, admin and viewer
routes into one app, and the `seatmap` command line that runs it.

It may import every layer below it; nothing imports it.
"""
