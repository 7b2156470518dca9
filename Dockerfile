# The DynamoDB + DynamoDB Streams emulator, listening on 0.0.0.0:8000, in memory by default.
#
#   docker build -t ddb-streams-emulator .
#   docker run --rm -p 8000:8000 ddb-streams-emulator
#   docker run --rm -p 8000:8000 -v ddb-data:/data -e EMULATOR_DATA_DIR=/data ddb-streams-emulator
#
# Every flag is also an EMULATOR_* environment variable (see `--help` and the README);
# arguments after the image name are passed to `ddb-emulator`.
# Stages: `base` (Debian's python3), `build` (the package in a venv), `example-client`
# (build + boto3, for docker-compose.yml's one-shot client), `runtime-venv` (the venv
# without pip) and the final image, which is the default target.

FROM debian:bookworm-slim AS base
RUN apt-get update \
    && apt-get install -y --no-install-recommends python3 python3-venv ca-certificates \
    && rm -rf /var/lib/apt/lists/*
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1

FROM base AS build
RUN python3 -m venv /opt/emulator
COPY pyproject.toml README.md /src/
COPY emulator /src/emulator
RUN /opt/emulator/bin/pip install /src

FROM build AS example-client
RUN /opt/emulator/bin/pip install "boto3>=1.34"
COPY examples/compose_client.py /opt/examples/compose_client.py
RUN useradd --system --no-create-home --shell /usr/sbin/nologin client
USER client
ENV PATH=/opt/emulator/bin:$PATH
CMD ["python3", "/opt/examples/compose_client.py"]

FROM build AS runtime-venv
RUN /opt/emulator/bin/python -m pip uninstall --yes --quiet pip setuptools

FROM base
COPY --from=runtime-venv /opt/emulator /opt/emulator
RUN useradd --system --no-create-home --shell /usr/sbin/nologin --uid 10001 emulator \
    && mkdir -p /data \
    && chown emulator:emulator /data
USER emulator
WORKDIR /data
ENV PATH=/opt/emulator/bin:$PATH \
    EMULATOR_HOST=0.0.0.0 \
    EMULATOR_PORT=8000
EXPOSE 8000
VOLUME /data
HEALTHCHECK --interval=2s --timeout=3s --start-period=10s --retries=5 \
    CMD ["python3", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('EMULATOR_PORT', '8000') + '/_emulator/health', timeout=2)"]
ENTRYPOINT ["ddb-emulator"]
