# One image for every process type of the Procfile; each container runs one of them:
#   docker build -t djchan .
#   docker run --rm --env-file djchan.env -v djchan-data:/data djchan python manage.py migrate --noinput
#   docker run -d --env-file djchan.env -v djchan-data:/data -p 8000:8000 djchan
#   docker run -d --env-file djchan.env -v djchan-data:/data djchan python manage.py runworker
#   docker run -d --env-file djchan.env -v djchan-data:/data djchan python manage.py rundelay
# The static files are collected into the image as it is built, so the release step of a
# container deployment is the migrate line. djchan.env sets REDIS_URL, DJANGO_SECRET_KEY and
# DJANGO_ALLOWED_HOSTS (see README.md, Deploying).
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/app/.venv/bin:$PATH \
    DJANGO_DEBUG=0 \
    DJANGO_DATABASE=/data/db.sqlite3 \
    PORT=8000

WORKDIR /app
RUN python -m venv .venv
COPY requirements.txt ./
RUN pip install --no-cache-dir -r requirements.txt

COPY . .
# A key for this one command only: collectstatic reads the settings, which want one.
RUN DJANGO_SECRET_KEY=collectstatic-at-build-time python manage.py collectstatic --noinput \
    && useradd --system --home-dir /app djchan \
    && mkdir /data && chown djchan /data

USER djchan
VOLUME /data
EXPOSE 8000
CMD ["sh", "-c", "exec daphne djchan.asgi:channel_layer --bind 0.0.0.0 --port $PORT"]
