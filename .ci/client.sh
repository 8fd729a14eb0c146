#!/usr/bin/env bash
# The integrator's check of openapi/openapi.json, in Node/TypeScript (.ci/client/).
#
# Usage:
#   bash .ci/client.sh run <base-url>   Generate TypeScript types from openapi/openapi.json with
#                                       openapi-typescript, type-check .ci/client/src with
#                                       `tsc` (strict), then drive the closed sale (signup, lead,
#                                       conversion, product, quote, order, invoice, payment) with
#                                       openapi-fetch against the server at <base-url>, e.g.
#                                       http://127.0.0.1:18200. The lifecycle runs even when tsc
#                                       reports errors, so one run tells both results; the script
#                                       exits non-zero if either failed.
#   bash .ci/client.sh lint             `redocly lint` of openapi/openapi.json with .ci/redocly.yaml
#                                       (the `recommended` ruleset); non-zero on any error.
#   bash .ci/client.sh types            Generate and type-check only (no server needed).
#
# Needs node >= 20.19 and npm; installs the pinned packages of .ci/client/package-lock.json with
# `npm ci` when node_modules is missing or the lock file changed. A second run reuses
# node_modules, the generated types (regenerated only when the spec changed) and tsc's
# incremental build info, so it takes a few seconds.
set -euo pipefail

ci_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$ci_dir/.." && pwd)
client="$ci_dir/client"
spec="$root/openapi/openapi.json"
bin="$client/node_modules/.bin"
# Redocly CLI: no usage telemetry and no update check (the only network it may use is the server
# under test).
export REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true NO_UPDATE_NOTIFIER=1

step() { printf '\n=== client: %s\n' "$*"; }
usage() { sed -n '2,20p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; exit 2; }

install() {
  step "npm packages (pinned in .ci/client/package-lock.json)"
  command -v node >/dev/null || { echo "node is not installed"; exit 1; }
  command -v npm >/dev/null || { echo "npm is not installed"; exit 1; }
  echo "node $(node --version), npm $(npm --version)"
  local lock_sum stamp="$client/node_modules/.ci-lock.sha256"
  lock_sum=$(sha256sum "$client/package-lock.json" | cut -d' ' -f1)
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$lock_sum" ] && [ -x "$bin/tsc" ]; then
    echo "node_modules matches package-lock.json: npm ci skipped"
  else
    (cd "$client" && npm ci --no-audit --no-fund --loglevel=error)
    echo "$lock_sum" >"$stamp"
  fi
  echo "typescript $("$bin/tsc" --version | cut -d' ' -f2), openapi-typescript $(node -p "require('$client/node_modules/openapi-typescript/package.json').version"), openapi-fetch $(node -p "require('$client/node_modules/openapi-fetch/package.json').version"), @redocly/cli $(node -p "require('$client/node_modules/@redocly/cli/package.json').version")"
}

# Sets tsc_status: 0 when `tsc` (strict) passed.
typecheck() {
  step "types: openapi-typescript openapi/openapi.json -> .ci/client/src/api.d.ts"
  local spec_sum stamp="$client/dist/.api.d.ts.sha256" out="$client/src/api.d.ts"
  spec_sum=$( { sha256sum "$spec"; sha256sum "$client/package-lock.json"; } | sha256sum | cut -d' ' -f1)
  if [ -f "$out" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$spec_sum" ]; then
    echo "the spec has not changed since the last generation: $out kept"
  else
    rm -f "$stamp"
    "$bin/openapi-typescript" "$spec" --output "$out"
    mkdir -p "$client/dist" && echo "$spec_sum" >"$stamp"
  fi

  step "tsc --strict (no casts, no any, no type guards in src/lifecycle.ts)"
  # The file's rules are kept by review; this catches a slip that would hide a spec defect.
  if grep -nE '\bas [A-Za-z{(]|\bany\b|[A-Za-z0-9_)]!(\.|\)|;|,|\[)|\): *[a-z][A-Za-z]* is |\basserts\b|[=(,:] *<[A-Z][A-Za-z]*>' \
    "$client/src/lifecycle.ts" | grep -vE '^[0-9]+: *//'; then
    echo "src/lifecycle.ts uses a cast, any, a non-null assertion or a type guard (lines above)"; exit 1
  fi
  grep -q '"strict": true' "$client/tsconfig.json" || { echo "tsconfig.json lost strict: true"; exit 1; }
  tsc_status=0
  (cd "$client" && "$bin/tsc" -p tsconfig.json --strict --pretty false) || tsc_status=$?
  if [ "$tsc_status" -eq 0 ]; then
    echo "tsc: no errors"
  else
    echo "tsc: FAILED (errors above; the JavaScript is emitted all the same)"
  fi
}

case "${1:-}" in
  run)
    [ $# -eq 2 ] || usage
    base_url=${2%/}
    install
    typecheck
    step "closed sale against $base_url (node .ci/client/dist/lifecycle.js)"
    curl -fsS --max-time 5 "$base_url/ready" >/dev/null || { echo "no server answers $base_url/ready"; exit 1; }
    run_status=0
    node "$client/dist/lifecycle.js" "$base_url" || run_status=$?
    step "summary"
    if [ "$tsc_status" -eq 0 ]; then echo "types:   ok   (tsc --strict)"; else echo "types:   FAIL (tsc --strict, exit $tsc_status)"; fi
    if [ "$run_status" -eq 0 ]; then echo "runtime: ok   (closed sale)"; else echo "runtime: FAIL (closed sale, exit $run_status)"; fi
    [ "$tsc_status" -eq 0 ] && [ "$run_status" -eq 0 ] || exit 1
    ;;
  types)
    [ $# -eq 1 ] || usage
    install
    typecheck
    [ "$tsc_status" -eq 0 ] || exit 1
    ;;
  lint)
    [ $# -eq 1 ] || usage
    install
    step "redocly lint openapi/openapi.json (.ci/redocly.yaml: recommended)"
    cd "$root"
    "$bin/redocly" lint --config .ci/redocly.yaml --format=stylish openapi/openapi.json
    ;;
  *) usage ;;
esac
