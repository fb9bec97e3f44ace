#!/usr/bin/env bash
# Instructions mast executes per request, counted by valgrind (callgrind):
# unlike req/s on a shared virtual machine, the count does not drift from run
# to run, so it can compare two builds or two settings (an allocator, say).
#
#   bash bench/instructions.sh                 # POST /predict and OIP infer
#   MAST_BIN=/tmp/old/mast bash bench/instructions.sh
#
# For each endpoint mast runs under callgrind twice, answering N1 and then N2
# requests over one keep-alive connection (curl); the difference of the two
# totals divided by N2 - N1 is the per-request count, start-up and shutdown
# cancelling out. The median of ROUNDS such pairs is reported: now and then
# one run is off by a one-off 100-250 million (not yet explained). Busy
# polling is off (a polling thread's instructions would depend on time, not
# on requests). Counts all of mast's threads, the engine
# (ONNX Runtime) and the allocator included, not the kernel.
# Environment: MAST_BIN (build/mast), N1 (50), N2 (1050), ROUNDS (3).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MAST_BIN="${MAST_BIN:-$ROOT/build/mast}"
N1="${N1:-50}"
N2="${N2:-1050}"
ROUNDS="${ROUNDS:-3}"
command -v valgrind >/dev/null || { echo "bench: valgrind is missing (apt-get install valgrind)" >&2; exit 1; }
[[ -x "$MAST_BIN" ]] || { echo "bench: $MAST_BIN not found: build it first" >&2; exit 1; }

TMP="$(mktemp -d)"
PID=""
cleanup() {
  if [[ -n "$PID" ]]; then kill "$PID" 2>/dev/null || true; fi
  rm -rf "$TMP"
}
trap cleanup EXIT

free_port() {
  /usr/bin/python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# count PATH BODY N -> total instructions of a server that answered N requests
count() {
  local path=$1 body=$2 n=$3 port i
  port=$(free_port)
  MODEL_PATH="$ROOT/examples/churn/model.onnx" valgrind --tool=callgrind \
    --callgrind-out-file="$TMP/callgrind.out" "$MAST_BIN" serve --port "$port" \
    --busy-poll-us 0 >"$TMP/mast.log" 2>&1 &
  PID=$!
  until curl -sf -o /dev/null "http://127.0.0.1:$port/v2/health/ready"; do
    kill -0 "$PID" 2>/dev/null || { cat "$TMP/mast.log" >&2; exit 1; }
    sleep 0.2
  done
  for ((i = 0; i < n; i++)); do echo "url = \"http://127.0.0.1:$port$path\""; done >"$TMP/urls"
  curl -sf -K "$TMP/urls" -H 'Content-Type: application/json' --data-binary @"$body" \
    >"$TMP/answers" || { echo "bench: $path failed" >&2; exit 1; }
  kill -INT "$PID"
  wait "$PID" || true
  PID=""
  grep -h "Collected" "$TMP/mast.log" | awk '{print $4}'
}

OIP_BODY="$TMP/oip.json"
/usr/bin/python3 "$ROOT/bench/make_oip_body.py" "$ROOT/examples/churn/sample.json" \
  "$ROOT/examples/churn/model.yaml" "$OIP_BODY"

echo "instructions per request ($MAST_BIN; median of $ROUNDS pairs of $N1 and $N2 requests):"
for endpoint in "/predict $ROOT/examples/churn/sample.json" \
                "/v2/models/churn/infer $OIP_BODY"; do
  read -r path body <<<"$endpoint"
  per=()
  for ((round = 0; round < ROUNDS; round++)); do
    a=$(count "$path" "$body" "$N1")
    b=$(count "$path" "$body" "$N2")
    per+=($(((b - a) / (N2 - N1))))
  done
  median=$(printf "%s\n" "${per[@]}" | sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}')
  printf "  POST %-24s %8d   (rounds: %s)\n" "$path" "$median" "${per[*]}"
done
