# Offline stand-in for nginx/nginx-prometheus-exporter: Debian's
# prometheus-nginx-exporter (same upstream code, same flags) on the base.
ARG BASE=emotion-gateway/offline-base:forky
FROM ${BASE}
USER nobody
EXPOSE 9113
ENTRYPOINT ["/usr/bin/prometheus-nginx-exporter"]
