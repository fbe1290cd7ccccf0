#!/usr/bin/env bash
# `make run`: serve the bridge locally with an embedded SQLite database and the demo catalog.
# Usage: scripts/run-dev.sh HOST PORT
#
# If BRIDGE_ADMIN_TOKEN or BRIDGE_WEBHOOK_SECRET is unset, random values are created once in
# var/dev.env (mode 0600) and reused on every run. They are for local use only.
set -euo pipefail
cd "$(dirname "$0")/.."

host="${1:-127.0.0.1}"
port="${2:-8000}"
dev_env="var/dev.env"

if [[ -z "${BRIDGE_ADMIN_TOKEN:-}" || -z "${BRIDGE_WEBHOOK_SECRET:-}" ]]; then
    if [[ ! -f "$dev_env" ]]; then
        mkdir -p var
        # umask first, so the file is never readable by others, not even for a moment.
        (
            umask 077
            .venv/bin/python - >"$dev_env" <<'PY'
import base64
import secrets

print("# Plan Bridge local development secrets: for local use only, never in production.")
print(f"BRIDGE_ADMIN_TOKEN={secrets.token_urlsafe(32)}")
print(f"BRIDGE_WEBHOOK_SECRET=whsec_{base64.b64encode(secrets.token_bytes(32)).decode()}")
PY
        )
        chmod 600 "$dev_env"
        echo "Created $dev_env with a random admin token and webhook secret (for local use only)." >&2
    fi
    echo "Using secrets from $dev_env (for local use only)." >&2
    # A value already in the environment wins over the file's.
    admin_token="${BRIDGE_ADMIN_TOKEN:-}"
    webhook_secret="${BRIDGE_WEBHOOK_SECRET:-}"
    set -a
    # shellcheck source=/dev/null
    source "$dev_env"
    set +a
    [[ -n "$admin_token" ]] && export BRIDGE_ADMIN_TOKEN="$admin_token"
    [[ -n "$webhook_secret" ]] && export BRIDGE_WEBHOOK_SECRET="$webhook_secret"
fi

export BRIDGE_DATABASE_URL="${BRIDGE_DATABASE_URL:-sqlite:///var/bridge.db}"
echo "Serving the bridge on http://$host:$port/. To try it with a real WordPress network, run \`make demo\` (needs \`make deps\`)." >&2
exec .venv/bin/bridge serve --host "$host" --port "$port"
