# One image for every instance. Build: docker build -t chat .
# Run:   docker run -p 8080:8080 -v chat-data:/data chat
# Several instances: see deploy/compose.yaml and the README.

# --- build: wheels for the app and its dependencies, compiled where needed -------------------
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /src
COPY pyproject.toml README.md main.py alembic.ini ./
COPY models ./models
COPY services ./services
COPY api ./api
COPY chat_ui ./chat_ui
COPY migrations ./migrations
RUN python -m venv /venv && /venv/bin/pip install --upgrade pip && /venv/bin/pip install .

# --- runtime: the virtual environment and nothing else ----------------------------------------
FROM python:3.11-slim-bookworm
ENV PATH=/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    CHAT_HOST=0.0.0.0 \
    CHAT_PORT=8080 \
    CHAT_DATA_DIR=/data
RUN useradd --system --uid 10001 --home-dir /data --shell /usr/sbin/nologin chat \
    && mkdir -p /data /media && chown chat:chat /data /media
COPY --from=build /venv /venv
WORKDIR /data
USER chat
VOLUME ["/data"]
EXPOSE 8080
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
    CMD python -c "import os, sys, urllib.request; port = os.environ.get('CHAT_PORT', '8080'); sys.exit(0 if urllib.request.urlopen(f'http://127.0.0.1:{port}/healthz', timeout=4).status == 200 else 1)"
CMD ["chat"]
