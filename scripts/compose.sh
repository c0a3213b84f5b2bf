#!/usr/bin/env bash
# Runs compose (`docker compose` or `docker-compose`) with the project's
# name, file, image mode and profiles: scripts/compose.sh ps, logs -f, ...
set -euo pipefail
# shellcheck source=scripts/stack-env.sh
source "$(dirname "$0")/stack-env.sh"
exec "${COMPOSE[@]}" "$@"
