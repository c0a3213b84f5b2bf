# Offline stand-in for prom/prometheus: Debian's prometheus on the base.
# Same contract as the official image: runs as nobody, config in
# /etc/prometheus, data in /prometheus, entrypoint the prometheus binary.
ARG BASE=emotion-gateway/offline-base:forky
FROM ${BASE}
RUN mkdir -p /prometheus /etc/prometheus && chown nobody:nogroup /prometheus
USER nobody
WORKDIR /prometheus
VOLUME ["/prometheus"]
EXPOSE 9090
ENTRYPOINT ["/usr/bin/prometheus"]
CMD ["--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"]
