# One image for every Leadbot process; the container's command picks the role:
#   python -m bot serve --role rasa|actions|web|worker   (see compose.yaml)
# The model is trained at build time, so a replica starts without training.
FROM python:3.10-slim

ENV PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    BIND_HOST=0.0.0.0

WORKDIR /app
COPY requirements.lock .
RUN pip install --no-deps -r requirements.lock

COPY . .
RUN python -m bot model ensure \
    && useradd --system --home /app leadbot \
    && mkdir -p var .run \
    && chown -R leadbot var .run models

USER leadbot
EXPOSE 5005 5055 8080
CMD ["python", "-m", "bot", "serve", "--role", "web"]
