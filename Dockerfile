# seatmap as users install it: the viewer bundle and the wheel are built in throwaway
# stages (the steps of `make dist`), and the runtime image gets the wheel alone.
#   docker build -t seatmap .        docker compose up --build   (with PostgreSQL and Redis)

# 1. The viewer bundle: esbuild writes it into seatmap_app/viewer_dist (`make viewer`).
FROM node:20-slim AS viewer
WORKDIR /src/viewer
COPY viewer/package.json viewer/package-lock.json ./
RUN npm ci --no-audit --no-fund --loglevel=error
COPY viewer/src ./src
RUN npm run build

# 2. The sdist and the wheel built from it, the viewer inside (`python -m build`).
FROM python:3.11-slim AS wheel
WORKDIR /src
RUN pip install --no-cache-dir build
COPY pyproject.toml MANIFEST.in README.md ./
COPY viewer/package.json viewer/package-lock.json ./viewer/
COPY viewer/src ./viewer/src
COPY seatmap ./seatmap
COPY httpkit ./httpkit
COPY tileserver ./tileserver
COPY lockservice ./lockservice
COPY seatmap_app ./seatmap_app
COPY --from=viewer /src/seatmap_app/viewer_dist ./seatmap_app/viewer_dist
RUN python -m build --outdir /dist .

# 3. Runtime: only the wheel and its dependencies; no Node.js, no compilers, not root.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    SEATMAP_DATA_DIR=/var/lib/seatmap SEATMAP_HOST=0.0.0.0 SEATMAP_PORT=8000
# skia-python draws through the system's libEGL/libGL; seat and section labels need a font.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libegl1 libgl1 libexpat1 fonts-dejavu-core \
 && rm -rf /var/lib/apt/lists/*
COPY --from=wheel /dist/ /tmp/dist/
RUN pip install --no-cache-dir /tmp/dist/seatmap-*.whl && rm -rf /tmp/dist
RUN useradd --create-home --uid 10001 seatmap \
 && mkdir -p /var/lib/seatmap && chown seatmap /var/lib/seatmap
USER seatmap
WORKDIR /home/seatmap
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=60s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/readyz', timeout=2)"]
# Applies pending migrations, then serves; SIGTERM stops it gracefully (exit 0).
CMD ["seatmap", "serve", "--workers", "2"]
