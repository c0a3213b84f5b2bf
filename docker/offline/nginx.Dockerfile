# Offline stand-in for the official nginx image, on the debootstrapped
# Debian base (Debian forky's nginx 1.30). Same paths as the official
# image: /etc/nginx, /docker-entrypoint.sh running /docker-entrypoint.d/*.sh,
# CMD nginx -g 'daemon off;', SIGQUIT for a graceful stop. curl is in the
# base for the compose healthcheck, as in the official image.
ARG BASE=emotion-gateway/offline-base:forky
FROM ${BASE}
COPY docker-entrypoint.sh /docker-entrypoint.sh
RUN mkdir -p /docker-entrypoint.d /etc/nginx/params \
 && rm -f /etc/nginx/sites-enabled/default
EXPOSE 80 443
STOPSIGNAL SIGQUIT
ENTRYPOINT ["/docker-entrypoint.sh"]
CMD ["nginx", "-g", "daemon off;"]
