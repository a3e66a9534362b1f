"""The installed wheel works on its own: migrate, import, create an event, serve the viewer.

Everything runs from a directory outside the repository, against a database
with no schema and a Redis key prefix of its own. The viewer page is parsed
and every script, stylesheet and image it loads (and every chunk and image
those name) must be served, so a file missing from the wheel fails here. What
the page carries inline counts too: the first-view script names the bundle it
loads, and the inline stylesheets name Leaflet's images.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import uuid
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

import httpx
import numpy as np
import pytest
import pyvips
import redis as syncredis

from tests.conftest import REDIS_URL, new_database
from tests.install.conftest import ROOT, Installed
from tests.install.served import ServedApp

pytestmark = [pytest.mark.slow, pytest.mark.timeout(420)]

CHROMIUM = os.environ.get("SEATMAP_CHROMIUM", "/usr/bin/chromium")
CSS_URL = re.compile(r"url\(\s*['\"]?([^'\")]+)['\"]?\s*\)")
JS_CHUNK = re.compile(r"['\"](\./chunk-[A-Za-z0-9_-]+\.js)['\"]")
# A script the inline first-view script loads, e.g. "app/boot.js".
JS_REF = re.compile(r"['\"]((?:\./)?app/[A-Za-z0-9_./-]+\.js)['\"]")


class PageAssets(HTMLParser):
    """The URLs of the scripts, stylesheets and images an HTML page loads, and the text
    of its inline scripts (classic ones, not data) and inline stylesheets."""

    def __init__(self, page_url: str) -> None:
        super().__init__()
        self.base = page_url
        self.scripts: list[str] = []
        self.stylesheets: list[str] = []
        self.images: list[str] = []
        self.inline_scripts: list[str] = []
        self.inline_styles: list[str] = []
        self._inline: list[str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        """Collect src/href of script, link rel=stylesheet and img; follow <base href>."""
        a = {k: v or "" for k, v in attrs}
        if tag == "base" and a.get("href"):
            self.base = urljoin(self.base, a["href"])
        elif tag == "script" and a.get("src"):
            self.scripts.append(urljoin(self.base, a["src"]))
        elif tag == "script" and a.get("type", "text/javascript") in ("text/javascript", ""):
            self._inline = self.inline_scripts
            self._inline.append("")
        elif tag == "style":
            self._inline = self.inline_styles
            self._inline.append("")
        elif tag == "link" and a.get("rel") == "stylesheet":
            self.stylesheets.append(urljoin(self.base, a["href"]))
        elif tag == "img" and a.get("src"):
            self.images.append(urljoin(self.base, a["src"]))

    def handle_data(self, data: str) -> None:
        """The text of an inline script or stylesheet."""
        if self._inline is not None:
            self._inline[-1] += data

    def handle_endtag(self, tag: str) -> None:
        """Ends an inline script or stylesheet."""
        if tag in ("script", "style"):
            self._inline = None

    def all_scripts(self) -> list[str]:
        """External scripts, and those the inline scripts load (relative to the page's base)."""
        named = [urljoin(self.base, ref) for text in self.inline_scripts
                 for ref in JS_REF.findall(text)]  # fmt: skip
        return self.scripts + named


def page_assets(client: httpx.Client, page_url: str) -> PageAssets:
    """The page's assets, after checking the page itself is served."""
    page = client.get(page_url)
    assert page.status_code == 200, (page_url, page.text[:300])
    assets = PageAssets(page_url)
    assets.feed(page.text)
    return assets


def distinct_colours(png: bytes) -> int:
    """How many different RGBA values a PNG decodes to."""
    image = pyvips.Image.new_from_buffer(png, "")
    pixels = np.frombuffer(image.write_to_memory(), dtype=np.uint8).reshape(-1, image.bands)
    return len(np.unique(pixels, axis=0))


@pytest.fixture
def fresh_backends() -> Iterator[dict[str, str]]:
    """Settings for a new, unmigrated database and a Redis key prefix of this test."""
    prefix = f"wheel-{uuid.uuid4().hex[:8]}:"
    with new_database() as dsn:
        yield {
            "SEATMAP_DATABASE_URL": dsn,
            "SEATMAP_REDIS_URL": REDIS_URL,
            "SEATMAP_REDIS_PREFIX": prefix,
        }
    client = syncredis.Redis.from_url(REDIS_URL)
    keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
    if keys:
        client.delete(*keys)
    client.close()


def test_the_installed_package_imports_from_the_virtualenv(installed: Installed) -> None:
    found = installed.run("--help", env={})
    assert found.returncode == 0 and "create-event" in found.stdout
    packages = installed.site_packages
    for name in ("seatmap", "seatmap_app", "tileserver", "lockservice", "httpkit"):
        assert (packages / name / "__init__.py").is_file(), name
    assert list((packages / "seatmap" / "migrations").glob("*.sql"))
    assert (packages / "seatmap_app" / "viewer_dist" / "app" / "boot.js").is_file()
    assert str(ROOT) not in (packages / "seatmap" / "__init__.py").resolve().as_posix()


def test_wheel_migrates_imports_creates_an_event_and_serves_the_viewer(
    installed: Installed, fresh_backends: dict[str, str]
) -> None:
    env = {
        **fresh_backends,
        "SEATMAP_DATA_DIR": str(installed.workdir / "data"),
        "SEATMAP_API_KEY": "wheel-operator-key",
    }
    unmigrated = installed.run("venues", env=env)
    assert unmigrated.returncode == 1 and "run seatmap migrate" in unmigrated.stderr
    migrated = installed.run("migrate", env=env)
    assert migrated.returncode == 0, migrated.stderr
    assert "applied 0001_venues.sql" in migrated.stdout
    generated = installed.run(
        "generate-venue", "--kind", "theater", "--seats", "400", "--out", "hall.json", env=env
    )
    assert generated.returncode == 0, generated.stderr
    imported = installed.run("import", "hall.json", env=env)
    assert imported.returncode == 0, imported.stderr
    created = installed.run(
        "create-event",
        "--venue",
        imported.stdout.strip(),
        "--title",
        "Wheel night",
        "--hold-ttl-s",
        "30",
        env=env,
    )
    assert created.returncode == 0, created.stderr
    event_id = int(created.stdout)

    app = ServedApp(
        [str(installed.seatmap), "serve"],
        env,
        cwd=installed.workdir,
        log_path=installed.workdir / "serve.log",
    )
    app.start()
    try:
        with httpx.Client(base_url=app.url, timeout=30) as client:
            assert client.get("/readyz").status_code == 200
            _check_viewer(client, app.url, event_id)
            _check_tiles(client, event_id)
    finally:
        code = app.stop()
    assert code == 0, app.log()
    assert "Traceback" not in app.log()


def _check_viewer(client: httpx.Client, base_url: str, event_id: int) -> None:
    for page_url in (f"{base_url}/viewer/?event={event_id}", f"{base_url}/embed/{event_id}"):
        assets = page_assets(client, page_url)
        scripts = assets.all_scripts()
        assert any(url.endswith("/app/boot.js") for url in scripts), scripts
        # Leaflet's stylesheet and the viewer's: linked, or carried inline.
        inline_css = "\n".join(assets.inline_styles)
        carried = [name for name in (".leaflet-container", ".seatmap-map") if name in inline_css]
        assert len(assets.stylesheets) + len(carried) >= 2, (assets.stylesheets, carried)
        assert assets.images
        seen: set[str] = set()
        while scripts:
            url = scripts.pop()
            if url in seen:
                continue
            seen.add(url)
            script = client.get(url)
            assert script.status_code == 200, url
            assert "javascript" in script.headers["content-type"], url
            scripts += [urljoin(url, chunk) for chunk in JS_CHUNK.findall(script.text)]
        assert len(seen) > 1, "the bundle names no chunk"
        css_images = []
        for url in assets.stylesheets:
            sheet = client.get(url)
            assert sheet.status_code == 200, url
            assert sheet.headers["content-type"].startswith("text/css"), url
            css_images += [
                urljoin(url, ref)
                for ref in CSS_URL.findall(sheet.text)
                if not ref.startswith(("data:", "#"))
            ]
        css_images += [
            urljoin(assets.base, ref)
            for ref in CSS_URL.findall(inline_css)
            if not ref.startswith(("data:", "#"))
        ]
        assert any("leaflet/images/layers.png" in url for url in css_images)
        for url in assets.images + css_images:
            image = client.get(url)
            assert image.status_code == 200, url
            assert image.headers["content-type"] == "image/png", url
            assert distinct_colours(image.content) > 1, url


def _check_tiles(client: httpx.Client, event_id: int) -> None:
    tilejson = client.get(f"/events/{event_id}/tiles.json")
    assert tilejson.status_code == 200
    doc = tilejson.json()
    assert doc["tilejson"] == "3.0.0"
    url = doc["tiles"][0].format(z=doc["minzoom"], x=0, y=0)
    tile = client.get(url)
    assert tile.status_code == 200, url
    assert tile.headers["content-type"] == "image/png"
    assert distinct_colours(tile.content) > 2
    static = client.get(f"/events/{event_id}/map.png?width=640&height=480")
    assert static.status_code == 200
    assert distinct_colours(static.content) > 2


def test_migrate_without_migrations_in_the_package_fails_loudly(
    installed: Installed, fresh_backends: dict[str, str], tmp_path: Path
) -> None:
    migrations = installed.site_packages / "seatmap" / "migrations"
    kept = tmp_path / "migrations"
    shutil.move(migrations, kept)
    try:
        result = installed.run(
            "migrate", env={**fresh_backends, "SEATMAP_DATA_DIR": str(tmp_path / "data")}
        )
    finally:
        shutil.move(kept, migrations)
    assert result.returncode == 1
    message = result.stderr.strip()
    assert message.startswith("seatmap: no migrations found in ") and len(message.splitlines()) == 1


@pytest.mark.browser
def test_demo_from_anywhere_with_the_embedded_extra_shows_tiles_in_chromium(
    installed: Installed, tmp_path: Path
) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        pytest.skip(f"no Chromium at {CHROMIUM}")
    pip = [str(installed.venv / "bin" / "python"), "-m", "pip", "install", "-q"]
    extra = subprocess.run(
        [*pip, f"{installed.wheel}[embedded]"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert extra.returncode == 0, extra.stderr[-3000:]
    demo = ServedApp(
        [str(installed.seatmap), "demo", "--kind", "theater", "--seats", "300"],
        {"SEATMAP_DATA_DIR": str(tmp_path / "data")},
        cwd=tmp_path,
        log_path=tmp_path / "demo.log",
    )
    demo.start(timeout_s=180)
    try:
        found = re.search(r"viewer +(http://\S+/viewer/\?event=\d+)", demo.log())
        assert found, demo.log()
        with sync_api.sync_playwright() as playwright:
            browser = playwright.chromium.launch(
                executable_path=CHROMIUM, headless=True, args=["--no-sandbox", "--disable-gpu"]
            )
            try:
                shown, failures = _viewer_in_chromium(browser, found.group(1))
            finally:
                browser.close()
    finally:
        code = demo.stop()
    assert not failures, failures
    assert shown > 2, "the map shows no tiles"
    assert code == 0, demo.log()


def _viewer_in_chromium(browser: Any, url: str) -> tuple[int, list[str]]:
    """Distinct colours of the map once its first tiles are painted, and failed loads."""
    page = browser.new_page(viewport={"width": 1024, "height": 768})
    failures: list[str] = []
    page.on("pageerror", lambda error: failures.append(f"page error: {error}"))
    page.on(
        "response",
        lambda r: failures.append(f"{r.status} {r.url}") if r.status >= 400 else None,
    )
    page.goto(url)
    page.wait_for_function(
        "() => window.seatmapViewer && window.seatmapViewer.metrics.firstTilesMs", timeout=30_000
    )
    assert page.evaluate("() => document.querySelectorAll('img.leaflet-tile-loaded').length") > 0
    png = page.locator("#seatmap-map").screenshot()
    return distinct_colours(png), failures
