# Offline stand-in for prom/alertmanager: Debian's prometheus-alertmanager on the base.
# Same contract as the official image: runs as nobody, config at
# /etc/alertmanager/alertmanager.yml, notification log and silences in /alertmanager,
# port 9093, entrypoint the alertmanager binary (Debian calls it prometheus-alertmanager).
# The test fails the build with a clear message on a base from before the package was
# added (scripts/offline-images.sh rebuilds such a base by itself).
ARG BASE=emotion-gateway/offline-base:forky
FROM ${BASE}
RUN test -x /usr/bin/prometheus-alertmanager || { echo "the base has no prometheus-alertmanager: REBUILD=1 scripts/offline-images.sh" >&2; exit 1; }; \
    mkdir -p /alertmanager /etc/alertmanager && chown nobody:nogroup /alertmanager
USER nobody
WORKDIR /alertmanager
VOLUME ["/alertmanager"]
EXPOSE 9093
ENTRYPOINT ["/usr/bin/prometheus-alertmanager"]
CMD ["--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"]
