#!/usr/bin/env bash
# Browser test of the tracker: starts collector.py (pages + /js/script*.js + POST /api/event),
# loads the pages in a real headless Chromium and checks every body the tracker sent.
# Needs: python3, chromium (apt-get install -y chromium), pip websocket-client, a built dist/.
# Usage: tracker/test/run.sh            (exit 0 when all checks pass; prints "N passed, N failed")
#        KEEP=1 tracker/test/run.sh     (keep the temp dir with events.jsonl and logs)
set -uo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
TRACKER=$(dirname "$HERE")
CHROMIUM=${CHROMIUM:-$(command -v chromium || command -v chromium-browser || echo /usr/bin/chromium)}
[ -x "$CHROMIUM" ] || { echo "chromium not found (apt-get install -y chromium)"; exit 1; }
python3 -c 'import websocket' 2>/dev/null || python3 -m pip install -q -r "$HERE/requirements.txt" \
  || { echo "python package websocket-client missing (pip install websocket-client)"; exit 1; }
[ -f "$TRACKER/dist/script.js" ] || { echo "tracker/dist/script.js missing: run tracker/build.sh"; exit 1; }

GZ=$(gzip -9c "$TRACKER/dist/script.js" | wc -c)
echo "dist/script.js: $(wc -c <"$TRACKER/dist/script.js") bytes raw, $GZ bytes gzip -9 (budget 1536)"
[ "$GZ" -lt 1536 ] || { echo "default script over budget"; echo "0 passed, 1 failed"; exit 1; }

TMP=$(mktemp -d)
PORT=$(python3 -c 'import socket;s=socket.socket();s.bind(("127.0.0.1",0));print(s.getsockname()[1])')
EVENTS=$TMP/events.jsonl
COLLECTOR_PID=""; CHROME_PID=""
cleanup() {
  [ -n "$CHROME_PID" ] && kill "$CHROME_PID" 2>/dev/null && wait "$CHROME_PID" 2>/dev/null
  [ -n "$COLLECTOR_PID" ] && kill "$COLLECTOR_PID" 2>/dev/null && wait "$COLLECTOR_PID" 2>/dev/null
  if [ -n "${KEEP:-}" ]; then echo "kept: $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT

python3 "$HERE/collector.py" --port "$PORT" --pages "$HERE/pages" --dist "$TRACKER/dist" \
  --events "$EVENTS" >"$TMP/collector.log" 2>&1 &
COLLECTOR_PID=$!
for _ in $(seq 50); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/js/script.js" && break; sleep 0.1; done

# Every Chromium run: fresh profile, no background traffic, shop.example/other.example -> 127.0.0.1
# (the tracker ignores localhost and 127.*, so the pages are loaded as http://shop.example:PORT).
CHROME_FLAGS=(--headless --no-sandbox --disable-gpu --disable-quic --no-first-run
  --disable-background-networking --disable-component-update --disable-sync
  "--host-resolver-rules=MAP shop.example 127.0.0.1, MAP other.example 127.0.0.1")

# 1. Smoke: the simplest possible driver (virtual time + dump-dom), as the acceptance check does.
timeout 60 "$CHROMIUM" "${CHROME_FLAGS[@]}" --user-data-dir="$TMP/profile-smoke" --virtual-time-budget=5000 --dump-dom \
  "http://shop.example:$PORT/?utm_source=newsletter&smoke=1" >"$TMP/smoke.html" 2>"$TMP/smoke.log"
sleep 1

# 2. Scenarios driven over the DevTools protocol by drive.py. A debugging port makes Chromium set
#    navigator.webdriver (which the tracker rightly ignores); AutomationControlled turns that off so
#    the pages need no data-allow-automation. drive.py checks the automation rule separately.
"$CHROMIUM" "${CHROME_FLAGS[@]}" --user-data-dir="$TMP/profile" --remote-debugging-port=0 --remote-allow-origins='*' \
  --disable-blink-features=AutomationControlled \
  --window-size=1000,800 about:blank >"$TMP/chromium.log" 2>&1 &
CHROME_PID=$!
for _ in $(seq 100); do [ -s "$TMP/profile/DevToolsActivePort" ] && break; sleep 0.1; done
CDP_PORT=$(head -1 "$TMP/profile/DevToolsActivePort" 2>/dev/null)
[ -n "$CDP_PORT" ] || { echo "chromium did not open its debugging port"; cat "$TMP/chromium.log"; exit 1; }

python3 "$HERE/drive.py" --cdp-port "$CDP_PORT" --base "http://shop.example:$PORT" --port "$PORT" \
  --events "$EVENTS"
RC=$?
[ -n "${VERBOSE:-}" ] && cat "$EVENTS"
exit $RC
