"""seatmap: venue seat maps as raster tiles with live availability, and a seat lock service."""
