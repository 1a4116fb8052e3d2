FROM python:3.11-slim
ENV PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY textline ./textline
COPY workers ./workers
RUN pip install -e .
COPY templates ./templates
COPY migrations ./migrations
# instance/spool exists in the image, owned and 0700, so a new `spool` volume mounted there copies both.
RUN useradd --create-home textline && mkdir -p /app/instance/spool && chown -R textline /app/instance \
    && chmod 700 /app/instance/spool
USER textline
EXPOSE 8000
CMD ["gunicorn", "-k", "gevent", "-w", "1", "-b", "0.0.0.0:8000", "textline.wsgi:app"]
