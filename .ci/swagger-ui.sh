#!/usr/bin/env bash
# Loads Swagger UI from a running server in headless Chromium and checks that it rendered the
# spec: the API's title, an operation, and the Authorize button of the bearer scheme.
# Usage: swagger-ui.sh <base-url>
set -euo pipefail
base="$1"
if ! command -v chromium >/dev/null; then
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq chromium >/dev/null;
  else sudo apt-get update -qq && sudo apt-get install -y -qq chromium >/dev/null; fi
fi
profile=$(mktemp -d)
dom=$(chromium --headless --no-sandbox --disable-gpu --disable-quic --no-first-run --disable-background-networking \
  --disable-component-update --disable-sync --user-data-dir="$profile" --virtual-time-budget=20000 \
  --dump-dom "$base/swagger-ui/" 2>/dev/null)
rm -rf "$profile"
for expected in 'CRM API' 'btn authorize' '/api/v1/leads/{id}' 'opblock-tag'; do
  if ! grep -qF "$expected" <<<"$dom"; then
    echo "Swagger UI did not render: '$expected' is missing"; head -c 2000 <<<"$dom"; exit 1
  fi
done
echo "Swagger UI rendered the spec with its Authorize button"
