# Dockerfile: one image with every daemon of the fraud pipeline; each
# Kubernetes container picks its binary with `command:` (deploy/k8s/).
#
#   docker build -t fraud:0.1.0 .
#
# Two stages on Debian bookworm, whose packages the project is built and
# tested against: the builder installs the build dependencies listed in
# tools/deps.sh and builds with meson; the runtime stage holds only the
# shared libraries the binaries load and the binaries themselves, and runs
# as an unprivileged user.

# ---- build ----
FROM debian:bookworm AS build
WORKDIR /src
# deps.sh first, alone: the package layer is rebuilt only when it changes.
COPY tools/deps.sh tools/deps.sh
RUN . tools/deps.sh && fraud_deps_install && rm -rf /var/lib/apt/lists/*
COPY . .
# release: -O3 without debug info; assertions stay on (b_ndebug=false is the
# project's default, DESIGN: they stay on in production).  Only the
# programs are built, not the tests and benchmarks.
RUN meson setup /src/build --buildtype=release -Dwerror=true \
    && ninja -C /src/build ingest/fraud-ingest velocity/fraud-velocity \
        scorer/fraud-scorer labeler/fraud-labeler trainer/fraud-trainer \
        tools/fraudctl tools/fraud-broker

# ---- runtime ----
FROM debian:bookworm-slim
# The shared libraries the binaries are linked against (each pulls its own
# dependencies: zstd, lz4, snappy, OpenSSL, libgomp, ...; libsystemd0 is
# sd_notify, which does nothing outside systemd) and the CA store for TLS
# to Kafka.  tests/deploy/test_image.sh checks this list against
# the binaries' DT_NEEDED entries.
RUN apt-get update \
    && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
        librdkafka1 librocksdb7.8 libxgboost0 libprotobuf-c1 libyaml-0-2 \
        libmicrohttpd12 libsystemd0 ca-certificates \
    && rm -rf /var/lib/apt/lists/*
# A fixed numeric uid/gid: Kubernetes' runAsNonRoot can only verify a
# numeric USER, and the pods set the same runAsUser (deploy/k8s/).
RUN groupadd --system --gid 10001 fraud \
    && useradd --system --uid 10001 --gid fraud --no-create-home \
        --home-dir /var/lib/fraud --shell /usr/sbin/nologin fraud
COPY --from=build /src/build/ingest/fraud-ingest /src/build/velocity/fraud-velocity \
    /src/build/scorer/fraud-scorer /src/build/labeler/fraud-labeler \
    /src/build/trainer/fraud-trainer /usr/local/bin/
COPY --from=build /src/build/tools/fraudctl /src/build/tools/fraud-broker /usr/local/bin/
# The documented defaults and the example rules, for reference and for
# `fraudctl` run by hand; the deployments mount their own /etc/fraud.
COPY deploy/config/fraud.yaml deploy/config/rules.yaml /usr/share/fraud/
USER 10001:10001
# <stage>.http_listen of ingest, velocity, scorer, labeler and trainer:
# /metrics, /healthz, /readyz.
EXPOSE 9101 9102 9103 9104 9105
CMD ["/usr/local/bin/fraudctl", "--help"]
