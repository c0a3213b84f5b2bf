# Offline image for `access-log-exporter`: the binary built on the host by
# `cargo build --release` (scripts/offline-images.sh stages it as the only
# file of the build context) on the debootstrapped Debian base. Same user,
# entrypoint and ports as the official-path image (docker/rust.Dockerfile, target access-log-exporter).
# No model or secret is baked in: compose mounts them at run time.
ARG BASE=emotion-gateway/offline-base:forky
FROM ${BASE}
COPY access-log-exporter /usr/local/bin/access-log-exporter
USER 65532:65532
EXPOSE 5514/udp 9114
ENTRYPOINT ["/usr/local/bin/access-log-exporter"]
