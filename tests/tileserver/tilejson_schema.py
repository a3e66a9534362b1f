"""A JSON Schema of TileJSON 3.0.0, written from the specification's text for raster tiles.

Stricter than the published schema where the text says more: `bounds` is four
numbers in WGS 84 ranges (west, south, east, north), `center` is lon, lat and
an integer zoom, `scheme` is xyz or tms, zooms lie in 0..30, `legend` and the
other free texts are strings. Unknown keys are allowed (extensions).
"""

from __future__ import annotations

from typing import Any

SEMVER = r"^\d+\.\d+\.\d+\w?[\w\d]*$"
LONGITUDE = {"type": "number", "minimum": -180, "maximum": 180}
LATITUDE = {"type": "number", "minimum": -90, "maximum": 90}
ZOOM = {"type": "integer", "minimum": 0, "maximum": 30}
STRINGS = {"type": "array", "items": {"type": "string"}}

TILEJSON_3_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "type": "object",
    "required": ["tilejson", "tiles"],
    "properties": {
        "tilejson": {"type": "string", "pattern": SEMVER},
        "tiles": {"type": "array", "minItems": 1,
                  "items": {"type": "string", "pattern": "^https?://"}},
        "vector_layers": {
            "type": "array",
            "items": {"type": "object", "required": ["id", "fields"],
                      "properties": {"id": {"type": "string"}, "fields": {"type": "object"}}},
        },
        "attribution": {"type": "string"},
        "bounds": {"type": "array", "prefixItems": [LONGITUDE, LATITUDE, LONGITUDE, LATITUDE],
                   "minItems": 4, "maxItems": 4},
        "center": {"type": "array", "prefixItems": [LONGITUDE, LATITUDE, ZOOM],
                   "minItems": 3, "maxItems": 3},
        "data": STRINGS,
        "description": {"type": "string"},
        "fillzoom": ZOOM,
        "grids": STRINGS,
        "legend": {"type": "string"},
        "maxzoom": ZOOM,
        "minzoom": ZOOM,
        "name": {"type": "string"},
        "scheme": {"enum": ["xyz", "tms"]},
        "template": {"type": "string"},
        "version": {"type": "string", "pattern": SEMVER},
    },
    "additionalProperties": True,
}
