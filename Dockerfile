# syntax=docker/dockerfile:1
# Build: docker build -t claude-code-exporter .
# Run:   docker run -p 4318:4318 -p 14318:14318 -v cce-data:/var/lib/claude-code-exporter claude-code-exporter

FROM debian:bookworm AS build
WORKDIR /src
COPY scripts/install-deps.sh scripts/
RUN scripts/install-deps.sh --build-only
COPY . .
RUN rm -rf build && cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=Release \
      -DCCE_BUILD_TESTS=OFF -DCCE_BUILD_BENCH=OFF \
 && cmake --build build -j 2 \
 && strip build/claude-code-exporter

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      libprometheus-cpp-core1.0 libcpp-httplib0.11 libspdlog1.10 libfmt9 libtomlplusplus3 \
      libprotobuf32 libgrpc++1.51 libsqlite3-0 zlib1g libssl3 libbrotli1 libtcmalloc-minimal4 \
      ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /var/lib/claude-code-exporter --create-home \
      --shell /usr/sbin/nologin claude-code-exporter
COPY --from=build /src/build/claude-code-exporter /usr/bin/claude-code-exporter
COPY deploy/docker/config.toml /etc/claude-code-exporter/config.toml
USER claude-code-exporter
WORKDIR /var/lib/claude-code-exporter
VOLUME /var/lib/claude-code-exporter
# 4318: OTLP/HTTP from Claude Code; 14318: /metrics, /, /healthz, /readyz
EXPOSE 4317 4318 14318
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s \
  CMD ["claude-code-exporter", "--config", "/etc/claude-code-exporter/config.toml", "--healthcheck"]
# SIGTERM stops it gracefully (in-flight requests finish, the store is flushed).
STOPSIGNAL SIGTERM
ENTRYPOINT ["claude-code-exporter", "--config", "/etc/claude-code-exporter/config.toml"]
