# Official-path images for the project's Rust binaries (needs a registry):
#   docker build -f docker/rust.Dockerfile --target emotion-api .
#   docker build -f docker/rust.Dockerfile --target access-log-exporter .
#   docker build -f docker/rust.Dockerfile --target alert-receiver .
# compose.yaml builds the three targets from here.
#
# (1) One builder stage compiles the binaries once; each runtime stage
#     copies only its binary onto debian:bookworm-slim (same glibc as the
#     builder, so no musl or static-linking surprises).
# (2) Toolchain pinned to the version the project is tested with.
# (3) Runtime runs as an unprivileged numeric user; no model, certificate or
#     credential is copied in (compose mounts model/ read-only).
# (4) bookworm-slim has no curl: the healthchecks are the binaries' own
#     `healthcheck` subcommands.

FROM rust:1.95-bookworm AS builder
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY crates ./crates
RUN cargo build --release --locked -p emotion-api -p access-log-exporter -p alert-receiver

FROM debian:bookworm-slim AS emotion-api
COPY --from=builder /src/target/release/emotion-api /usr/local/bin/emotion-api
USER 65532:65532
EXPOSE 8000 9100
ENTRYPOINT ["/usr/local/bin/emotion-api"]

FROM debian:bookworm-slim AS access-log-exporter
COPY --from=builder /src/target/release/access-log-exporter /usr/local/bin/access-log-exporter
USER 65532:65532
EXPOSE 5514/udp 9114
ENTRYPOINT ["/usr/local/bin/access-log-exporter"]

FROM debian:bookworm-slim AS alert-receiver
COPY --from=builder /src/target/release/alert-receiver /usr/local/bin/alert-receiver
USER 65532:65532
EXPOSE 9095
ENTRYPOINT ["/usr/local/bin/alert-receiver"]
