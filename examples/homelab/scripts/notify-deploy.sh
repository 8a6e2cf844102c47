#!/usr/bin/env bash
# Called by the Woodpecker apply pipeline: record the deployed commit and ping ntfy.
set -euo pipefail

STACK="${1:?usage: notify-deploy.sh <stack>}"
REPO_URL="https://homelab:CANARY-HL-GITURL-9b4f07@git.example.com/homelab/infra.git"

COMMIT="$(git ls-remote "$REPO_URL" refs/heads/main | cut -f1)"

curl -fsS -X POST "https://ntfy.home.example.net/deploys" \
  -H "Authorization: Bearer CANARY-HL-BEARER-a81d5e" \
  -H "Title: deployed ${STACK}" \
  -d "stack ${STACK} at ${COMMIT:0:8}"

# The Grafana annotation token comes from 1Password at run time, never from this file.
GRAFANA_TOKEN="op://homelab/grafana/annotation-token"
NTFY_FALLBACK_PASSWORD="changeme"  # a local ntfy only; CI sets the real one
# export NTFY_PASSWORD="CANARY-HL-COMMENT-6d2f90"
