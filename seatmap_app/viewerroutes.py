"""HTTP routes of the browser viewer: its two pages and its built static files.

`/viewer/?event=ID` is the full viewer and `/embed/{event_id}` the page partner
sites put in an iframe; both are rendered with Jinja2 from `templates/`
(`base.html` and one small child each). Static files are the build output in
`viewer_dist/` (the esbuild bundle under `app/`, Leaflet's stylesheet and images
under `vendor/leaflet/`), made by `npm run build` in `viewer/` and shipped in
the wheel as package data. Both are found through importlib.resources, so an
installed package serves exactly what a checkout does.

Pages and files carry ETags (304 on revalidation) and are gzip-compressed
when the client accepts it, because the first view of a phone on a slow
network is what counts. For the same reason a page carries what its first
view needs, so that the first tiles are asked for one round trip after the
page and before any script bundle: the stylesheets, the event's TileJSON and
the small first-view script (`app/first-view.js`), all inline.
"""

from __future__ import annotations

import logging
import os
import re
from os import PathLike
from pathlib import Path, PurePath
from typing import Any

import jinja2
from starlette.middleware.gzip import GZipMiddleware
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route, Router
from starlette.staticfiles import StaticFiles
from starlette.types import ASGIApp, Scope

from httpkit.conditional import conditional_response, content_etag
from httpkit.contract import EventPath, documents, parse_params
from httpkit.proxies import forwarded_origin
from seatmap.context import ServiceContext
from seatmap.errors import NotFound
from seatmap.resources import package_path
from seatmap_app.viewermodels import EMBED, VIEWER, ViewerQuery
from tileserver.tilejson import tilejson

# Where `npm run build` writes the viewer, inside this package.
VIEWER_DIST = package_path("seatmap_app", "viewer_dist")
# esbuild names split chunks `chunk-HASH.js`: their content never changes under a name.
IMMUTABLE_PREFIXES = ("chunk-",)
IMMUTABLE = "public, max-age=31536000, immutable"
# Responses below this size are not worth compressing; images are compressed already.
GZIP_MIN_BYTES = 512
GZIP_SKIP_TYPES = ("text/event-stream", "image/png", "image/webp", "image/jpeg", "image/gif")
HTML_TYPE = "text/html; charset=utf-8"
# Built files a page carries inline, and the folder their relative url()s resolve against.
INLINE_STYLES = (("vendor/leaflet/leaflet.css", "vendor/leaflet/"), ("app/style.css", "app/"))
FIRST_VIEW_SCRIPT = "app/first-view.js"
CSS_URL = re.compile(r"url\((['\"]?)\./")

log = logging.getLogger(__name__)


class ViewerFiles(StaticFiles):
    """The built viewer's files: ETag/304 from StaticFiles, long caching for hashed chunks."""

    def file_response(
        self,
        full_path: PathLike[str] | str,
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        """The file (or a 304) with a Cache-Control suited to its name."""
        response = super().file_response(full_path, stat_result, scope, status_code)
        name = PurePath(full_path).name
        response.headers["Cache-Control"] = (
            IMMUTABLE if name.startswith(IMMUTABLE_PREFIXES) else "no-cache"
        )
        return response


class InlineAssets:
    """The built files a page inlines, read again whenever the build changes them."""

    def __init__(self, dist_dir: PathLike[str] | str) -> None:
        self._dist = Path(dist_dir)
        self._seen: tuple[int, ...] = ()
        self._values: dict[str, str] = {"styles": "", "first_view": ""}

    def values(self) -> dict[str, str]:
        """{"styles": CSS text, "first_view": script text}; empty strings when not built."""
        names = [name for name, _ in INLINE_STYLES] + [FIRST_VIEW_SCRIPT]
        seen = tuple(_mtime(self._dist / name) for name in names)
        if seen != self._seen:
            styles = []
            for name, folder in INLINE_STYLES:
                text = _read(self._dist / name)
                # Relative url()s were next to the stylesheet; inline, they resolve from /viewer/.
                styles.append(CSS_URL.sub(rf"url(\1{folder}", text))
            self._values = {
                "styles": "\n".join(styles).replace("</", "<\\/"),
                "first_view": _read(self._dist / FIRST_VIEW_SCRIPT).replace("</", "<\\/"),
            }
            self._seen = seen
        return self._values


def _mtime(path: Path) -> int:
    try:
        return path.stat().st_mtime_ns
    except OSError:
        return 0


def _read(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8").strip()
    except OSError:
        return ""


def page_templates() -> jinja2.Environment:
    """The Jinja2 environment of the viewer pages (package data, HTML autoescaped)."""
    return jinja2.Environment(
        loader=jinja2.PackageLoader("seatmap_app", "templates"),
        autoescape=True,
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )


def html_response(request: Request, body: bytes, status_code: int = 200) -> Response:
    """An HTML page with a content ETag, answering 304 when the client has it (200 only)."""
    headers = {"Cache-Control": "no-cache"}
    if status_code != 200:
        return Response(body, status_code=status_code, media_type=HTML_TYPE, headers=headers)
    return conditional_response(request, body, HTML_TYPE, content_etag(body), headers)


def _public_root(request: Request, ctx: ServiceContext) -> str:
    """The app's public root as the tile service's TileJSON names it (proxies followed)."""
    scheme, host = forwarded_origin(request, ctx.settings.trusted_proxies)
    root: Any = request.scope.get("app_root_path", request.scope.get("root_path", ""))
    return f"{scheme}://{host}{str(root).rstrip('/')}"


def _gzip(app: ASGIApp) -> ASGIApp:
    return GZipMiddleware(app, minimum_size=GZIP_MIN_BYTES, exclude_content_types=GZIP_SKIP_TYPES)


def viewer_routes(
    ctx: ServiceContext, dist_dir: PathLike[str] | str = VIEWER_DIST
) -> list[BaseRoute]:
    """Routes: /viewer/ (full viewer), /embed/{event_id}, and the viewer's static files."""
    templates = page_templates()
    assets = InlineAssets(dist_dir)

    async def render(request: Request, template: str, event_id: int | None) -> Response:
        title, status_code, tiles = "Seat map", 200, None
        if event_id is not None:
            try:
                view = await ctx.catalog.get(event_id)
            except NotFound:
                title, status_code = "Event not found", 404
            else:
                title, tiles = view.event.title, tilejson(view, _public_root(request, ctx))
        text = templates.get_template(template).render(
            title=title, event_id=event_id, tilejson=tiles, **assets.values()
        )
        return html_response(request, text.encode(), status_code)

    async def viewer_index(request: Request) -> Response:
        event_id = parse_params(ViewerQuery, request.query_params, "query").event
        return await render(request, "viewer.html", event_id)

    async def viewer_redirect(request: Request) -> Response:
        query = request.url.query
        return RedirectResponse("/viewer/" + (f"?{query}" if query else ""), status_code=308)

    async def embed(request: Request) -> Response:
        event_id = parse_params(EventPath, request.path_params, "path").event_id
        return await render(request, "embed.html", event_id)

    if not os.path.isfile(os.path.join(dist_dir, "app", "boot.js")):
        log.warning("viewer bundle missing in %s: run `make viewer` (pages load, maps do not)",
                    dist_dir)
    files = ViewerFiles(directory=dist_dir, check_dir=False)
    viewer = Router(routes=[Route("/", viewer_index), Mount("/", files)])
    embeds = Router(routes=[Route("/{event_id}", embed)])
    return [
        Route("/viewer", viewer_redirect),
        documents(Mount("/viewer", _gzip(viewer)), VIEWER),
        documents(Mount("/embed", _gzip(embeds)), EMBED),
    ]
