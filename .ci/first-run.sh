#!/usr/bin/env bash
# What a newcomer meets, checked on a clean clone: README.md's start command run as written (from
# the repository root, with the default SQLite database under ./data), the curl walkthrough run as
# printed, the start-up lines, the way to Swagger UI, the private data folder, a malformed request,
# `crm openapi | head`, the TypeScript client generated from the spec, and Ctrl-C.
# Usage: first-run.sh '<start command>'   (run from the repository root by .ci/run)
set -euo pipefail
start_command="$1"
root=$(pwd)
base=http://127.0.0.1:8080
work=$(mktemp -d)
log="$work/server.log"
fail() { echo "FIRST RUN: $*"; echo "--- server log (last 40 lines)"; tail -40 "$log" || true; exit 1; }

[ ! -e data ] || fail "./data exists: run CI on a clean clone, where the start command creates it"
if curl -s -o /dev/null "$base/health"; then fail "something already answers on $base"; fi

# RUST_LOG unset: the log is what a newcomer sees. The first build of the release binary takes
# minutes; cargo execs the server in its place, so $pid is the server once it runs.
env -u RUST_LOG -u DATABASE_URL -u CRM_JWT_SECRET -u CRM_DATA_DIR -u MALLOC_ARENA_MAX $start_command >"$log" 2>&1 &
pid=$!
trap 'kill "$pid" 2>/dev/null || true; rm -rf "$work"' EXIT
for _ in $(seq 1 1800); do
  curl -fsS -o /dev/null "$base/ready" 2>/dev/null && break
  kill -0 "$pid" 2>/dev/null || fail "the start command exited before the server was ready"
  sleep 0.5
done
curl -fsS -o /dev/null "$base/ready" || fail "the server was not ready after 15 minutes"
echo "ready: $start_command serves $base"

# The start-up lines name the version, the backend, the database and what the migrations did, then
# where to go.
grep -E "INFO.* crm [0-9]+\.[0-9]+\.[0-9]+: SQLite database $root/data/crm.db \([0-9]+ migrations applied, schema version [0-9]+\)" "$log" ||
  fail "no start-up line with the version, the SQLite database's path and the migrations applied"
grep -F "listening on $base/api/v1; Swagger UI at $base/swagger-ui/" "$log" || fail "no line with the API and Swagger UI addresses"

# The README's walkthrough, as printed: the first sh block after "## Try it with curl".
awk '/^## Try it with curl/ {inside = 1} inside && /^```sh$/ {block = 1; next} block && /^```$/ {exit} block {print}' README.md >"$work/walkthrough.sh"
[ -s "$work/walkthrough.sh" ] || fail "README.md has no walkthrough block under '## Try it with curl'"
echo "--- walkthrough ($(grep -c '^curl\|^[A-Z_]*=\$(curl' "$work/walkthrough.sh") requests)"
bash -euo pipefail "$work/walkthrough.sh" >"$work/walkthrough.out" 2>&1 || { cat "$work/walkthrough.out"; fail "the walkthrough failed"; }
cat "$work/walkthrough.out"; echo
grep -q '"version": 2' "$work/walkthrough.out" || fail "step 5 did not answer version 2"
grep -qi '^HTTP/1.1 412 Precondition Failed' "$work/walkthrough.out" || fail "the last step did not answer 412"
grep -qi '^content-type: application/problem+json' "$work/walkthrough.out" || fail "the 412 is not a problem document"
# Its body is the one README.md shows, but for the request id.
shown=$(awk '/^The last command answers/ {inside = 1} inside && /^```json$/ {block = 1; next} block && /^```$/ {exit} block {print}' README.md)
actual=$(tail -1 "$work/walkthrough.out")
diff <(jq -S 'del(.request_id)' <<<"$shown") <(jq -S 'del(.request_id)' <<<"$actual") ||
  fail "the last answer differs from the one README.md shows"
echo "ok: the walkthrough answered as README.md shows"

# A person opening the server in a browser is sent to Swagger UI.
for path in / /swagger-ui; do
  location=$(curl -sS -o /dev/null -w '%{http_code} %{redirect_url}' "$base$path")
  [ "$location" = "308 $base/swagger-ui/" ] || fail "GET $path answered '$location', not a redirect to /swagger-ui/"
done
page=$(curl -fsS "$base/docs/conventions")
grep -q '<h2>Errors</h2>' <<<"$page" || fail "/docs/conventions does not show the conventions"
echo "ok: / and /swagger-ui lead to Swagger UI; /docs/conventions shows the conventions"

# The data folder and what it holds are the owner's alone.
for entry in data:700 data/crm.db:600 data/jwt-secret:600; do
  mode=$(stat -c %a "${entry%%:*}")
  [ "$mode" = "${entry##*:}" ] || fail "${entry%%:*} has mode $mode, not ${entry##*:}"
done
echo "ok: data/ is 0700, crm.db and jwt-secret 0600"

# A client's malformed request is answered 400 and is not logged as a server error; durations are
# printed to the microsecond.
printf 'NOT HTTP AT ALL\r\n\r\n' | timeout 5 bash -c "exec 3<>/dev/tcp/127.0.0.1/8080; cat >&3; cat <&3" >"$work/garbage.out" || true
grep -q '^HTTP/1.1 400' "$work/garbage.out" || fail "a malformed request was not answered 400"
sleep 0.5
if grep -E '(^| )ERROR ' "$log"; then fail "the log has ERROR lines"; fi
if grep -E 'elapsed_ms=[0-9]+\.[0-9]{4,}' "$log"; then fail "a duration is printed with more than three decimals"; fi
echo "ok: no ERROR line after a malformed request; durations to the microsecond"

# `crm openapi | head` ends quietly when head closes the pipe.
binary=$(sed -n 's/.*Running `\([^`]*\)`.*/\1/p' "$log" | head -1)
binary=${binary:-target/release/crm}
"$binary" openapi 2>"$work/openapi.err" | head -1 >/dev/null
if [ -s "$work/openapi.err" ]; then cat "$work/openapi.err"; fail "crm openapi | head wrote to stderr"; fi
echo "ok: $binary openapi | head ends quietly"

# An integrator's client, generated from the committed spec, drives the closed sale.
bash .ci/client.sh run "$base"

# Ctrl-C stops the server gracefully.
kill -INT "$pid"
status=0
wait "$pid" || status=$?
[ "$status" = 0 ] || fail "the server exited with status $status on Ctrl-C"
grep -q "stopped" "$log" || fail "no graceful stop in the log"
if grep -qi "panicked" "$log"; then fail "the server panicked"; fi
echo "ok: Ctrl-C stopped the server gracefully"
rm -rf data
