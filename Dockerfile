FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY textline ./textline
COPY workers ./workers
RUN pip install -e .
COPY templates ./templates
COPY migrations ./migrations
RUN useradd --create-home textline && mkdir -p /app/instance && chown textline /app/instance
USER textline
EXPOSE 8000
CMD ["gunicorn", "-k", "gevent", "-w", "1", "-b", "0.0.0.0:8000", "textline.wsgi:app"]
