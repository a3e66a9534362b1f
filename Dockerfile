# seatmap: the app with its viewer. PostgreSQL and Redis run beside it (compose.yaml).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    SEATMAP_DATA_DIR=/var/lib/seatmap SEATMAP_HOST=0.0.0.0 SEATMAP_PORT=8000

# Node and npm only to install the viewer's packages (Leaflet) at build time.
RUN apt-get update \
 && apt-get install -y --no-install-recommends nodejs npm libvips42 curl \
 && rm -rf /var/lib/apt/lists/*

RUN useradd --create-home --uid 10001 seatmap
WORKDIR /app

COPY pyproject.toml README.md ./
COPY seatmap ./seatmap
COPY tileserver ./tileserver
COPY lockservice ./lockservice
COPY migrations ./migrations
RUN pip install --no-cache-dir .

COPY viewer ./viewer
RUN cd viewer && npm ci --no-audit --no-fund --loglevel=error && npm run --if-present build

RUN mkdir -p /var/lib/seatmap && chown seatmap /var/lib/seatmap
USER seatmap
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD curl -fsS http://127.0.0.1:8000/readyz || exit 1
CMD ["seatmap", "serve", "--workers", "2"]
