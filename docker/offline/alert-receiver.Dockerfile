# Offline image for `alert-receiver`: the binary built on the host by
# `cargo build --release` (scripts/offline-images.sh stages it as the only
# file of the build context) on the debootstrapped Debian base. Same user,
# entrypoint and port as the official-path image (docker/rust.Dockerfile,
# target alert-receiver). It keeps notifications in memory only: no volume.
ARG BASE=emotion-gateway/offline-base:forky
FROM ${BASE}
COPY alert-receiver /usr/local/bin/alert-receiver
USER 65532:65532
EXPOSE 9095
ENTRYPOINT ["/usr/local/bin/alert-receiver"]
