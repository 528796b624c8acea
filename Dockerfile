# trailproof's container image: the README's Kubernetes CronJob and
# Indexed Job and the AWS Batch job definition run it.
#   docker build -t trailproof .        (scripts/container-smoke.sh builds and tries it)
#   docker run --rm trailproof validate --help
# Stage 1 builds with the toolchain the project pins (rust-version 1.95)
# from Cargo.lock; stage 2 is Debian slim with CA certificates (for S3,
# CloudTrail, STS, KMS and time-stamp authorities over HTTPS) and the
# stripped binary, run as an unprivileged user.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
# The C parts (aws-lc, libdeflate, mimalloc) build with the image's gcc;
# aws-lc falls back to CMake on targets without prebuilt build files.
RUN apt-get update \
 && apt-get install -y --no-install-recommends cmake \
 && rm -rf /var/lib/apt/lists/*
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
COPY examples ./examples
COPY tests ./tests
RUN cargo build --release --locked --bin trailproof \
 && strip target/release/trailproof

FROM debian:bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --uid 10001 --user-group --no-create-home --shell /usr/sbin/nologin trailproof
COPY --from=build /src/target/release/trailproof /usr/local/bin/trailproof
# Reports, checkpoints and --recover directories go to a mounted volume
# or to S3; the image itself is read-only at run time.
WORKDIR /work
USER 10001:10001
ENTRYPOINT ["trailproof"]
CMD ["--help"]
