# Dockerfile — Shijim: build on Debian 12, run in a slim Debian 12 image.
#
#   docker build -t shijim:latest .
#   docker run -d -v shijim-raw:/data/raw -v shijim-fallback:/data/fallback shijim:latest
#
# Recording is the default command (`shijim run main.lua`: the simulated market
# unless Shioaji is configured); any script runs the same way, e.g. a one-off
#   docker run --rm -v shijim-fallback:/data/fallback shijim:latest \
#     restore.lua --apply --fallback-dir /data/fallback --dsn "$DSN" --archive-dir /data/fallback/archive
# Settings come from the environment (read by scripts/main.lua and restore.lua):
#   SHIOAJI_URL                             the Shioaji server (`shioaji server start`)
#   SJ_API_KEY / SJ_SEC_KEY (or SHIOAJI_API_KEY / SHIOAJI_SECRET_KEY)
#   SHIJIM_CLICKHOUSE_DSN                   also record into ClickHouse
# Details, compose, Kubernetes and ECS: docs/deploy.md.
#
# BASE is a build argument so that machines without a registry can build on a
# locally imported Debian 12 (tests/container/test_image.sh passes
# --build-arg BASE=localhost/debian:bookworm). Both stages use it.
ARG BASE=debian:bookworm-slim

FROM ${BASE} AS build
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      build-essential cmake pkg-config libluajit-5.1-dev libev-dev libcurl4-openssl-dev \
      liblz4-dev libxxhash-dev zlib1g-dev libmicrohttpd-dev libnats-dev \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Only what the binary is made of: tests/ and bench/ are not copied, so
# CMake's globs find none and the build is the runtime alone.
COPY CMakeLists.txt ./
COPY cmake/ cmake/
COPY runtime/ runtime/
COPY scripts/ scripts/
# SHJ_HOME: the installed binary finds its scripts from any working directory.
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_INSTALL_PREFIX=/usr/local -DSHJ_HOME=/usr/local/share/shijim \
 && cmake --build build --target shijim -j"$(nproc)" \
 && DESTDIR=/stage cmake --install build --strip \
 && /stage/usr/local/bin/shijim --version

FROM ${BASE}
# Runtime libraries only (the -dev packages stay in the build stage);
# ca-certificates for https:// ClickHouse and Shioaji URLs.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libluajit-5.1-2 libev4 libcurl4 liblz4-1 libxxhash0 zlib1g libmicrohttpd12 libnats3.4 lua-cjson ca-certificates \
 && rm -rf /var/lib/apt/lists/*
# A fixed uid/gid so that host directories and Kubernetes fsGroup can match it.
RUN groupadd --system --gid 10001 shijim \
 && useradd --system --uid 10001 --gid 10001 --home-dir /data --no-create-home \
      --shell /usr/sbin/nologin shijim \
 && mkdir -p /data/raw /data/fallback \
 && chown -R 10001:10001 /data
COPY --from=build /stage/usr/local/ /usr/local/
COPY docker/healthcheck.sh /usr/local/bin/shijim-healthcheck
RUN chmod 0755 /usr/local/bin/shijim-healthcheck && shijim --version

USER 10001:10001
# main.lua's relative defaults (--dir data/raw, --fallback-dir data/fallback)
# resolve from / to the two volumes; scripts are found in
# /usr/local/share/shijim/scripts (compiled in; $SHIJIM_HOME overrides).
WORKDIR /
VOLUME ["/data/raw", "/data/fallback"]
# Until the recorder serves /healthz (issue 12 part 2): healthy while the
# newest raw archive file was written within SHIJIM_HEALTH_MAX_AGE seconds.
ENV SHIJIM_HEALTH_DIR=/data/raw SHIJIM_HEALTH_MAX_AGE=120
HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 CMD ["shijim-healthcheck"]
ENTRYPOINT ["shijim"]
CMD ["run", "main.lua"]
