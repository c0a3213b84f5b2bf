# Offline image for `emotion-api`: the binary built on the host by
# `cargo build --release` (scripts/offline-images.sh stages it as the only
# file of the build context) on the debootstrapped Debian base. Same user,
# entrypoint and ports as the official-path image (docker/rust.Dockerfile, target emotion-api).
# No model or secret is baked in: compose mounts them at run time.
ARG BASE=emotion-gateway/offline-base:forky
FROM ${BASE}
COPY emotion-api /usr/local/bin/emotion-api
USER 65532:65532
EXPOSE 8000 9100
ENTRYPOINT ["/usr/local/bin/emotion-api"]
