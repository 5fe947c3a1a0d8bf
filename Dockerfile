# syntax=docker/dockerfile:1
# Partsbot in one container: `partsbot serve` answers Slack (/slack/events), Teams (/api/messages) and
# /healthz on $PORT. Settings come from the environment (see .env.example); nothing secret is baked in.
#
#   docker build -t partsbot .
#   docker run --env-file .env -p 3978:3978 -v partsbot-data:/data partsbot
#
# The default database is a SQLite file on the /data volume; set DATABASE_URL to a PostgreSQL URL to run
# several replicas behind a load balancer.

# The Python version CI tests with; slim has no compilers, and every dependency ships binary wheels.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# A fixed numeric uid: Kubernetes' runAsNonRoot can only verify a numeric USER.
RUN groupadd --system --gid 10001 partsbot \
 && useradd --system --uid 10001 --gid partsbot --home-dir /home/partsbot --create-home \
        --shell /usr/sbin/nologin partsbot \
 && mkdir -p /data \
 && chown partsbot:partsbot /data

WORKDIR /app

# Dependencies first, against empty packages, so this slow layer is rebuilt only when pyproject.toml changes.
COPY pyproject.toml README.md ./
RUN mkdir -p bot handlers \
 && touch bot/__init__.py handlers/__init__.py \
 && pip install . \
 && pip uninstall --yes partsbot \
 && rm -rf bot handlers build

COPY bot ./bot
COPY handlers ./handlers
RUN pip install --no-deps . && rm -rf build

# Data files read at run time: texts are editable by a course facilitator without a rebuild (mount over
# /app/prompts), and the Teams app files let `partsbot teams-package` run from the image.
COPY prompts ./prompts
COPY apps/teams ./apps/teams

ENV PARTSBOT_ENV=production \
    PORT=3978 \
    DATABASE_URL=sqlite:////data/partsbot.sqlite3 \
    PARTSBOT_PROMPTS_DIR=/app/prompts \
    PARTSBOT_TEAMS_APP_DIR=/app/apps/teams \
    MPLCONFIGDIR=/tmp/matplotlib

# /data is created and chowned above: ownership set after a VOLUME line would be thrown away.
VOLUME ["/data"]
EXPOSE 3978

USER 10001:10001

# slim has no curl: ask /healthz with the standard library (it answers 200 only when the database does).
# urlopen raises on a refused connection, a timeout or a non-2xx answer; the one-line reason lands in
# `docker inspect` instead of a traceback. (Exec form: the JSON "\n" escapes become real newlines.)
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request\ntry:\n    urllib.request.urlopen('http://127.0.0.1:%s/healthz' % (os.environ.get('PORT') or '3978'), timeout=4)\nexcept Exception as error:\n    sys.exit(f'unhealthy: {error}')"]

CMD ["partsbot", "serve"]
