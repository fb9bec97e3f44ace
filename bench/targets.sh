#!/usr/bin/env bash
# Issue 5's performance targets, measured side by side in one run:
#
#   bash bench/targets.sh            # or: make bench-targets
#   DURATION=5 bash bench/targets.sh
#
#   1. POST /predict, small model (examples/churn: 20-feature logistic
#      regression), 32 connections, mast as shipped (INFO access log,
#      metrics, validation): mast / nginx returning a fixed JSON body (>= 0.5),
#      mast / FastAPI + uvicorn + scikit-learn (>= 40).
#   2. Same, 1 connection: mast p50 (<= 50 us) and p99 (<= 150 us), as wrk
#      reports them (corrected for coordinated omission, see below); each
#      request's own latency is measured by mast perf alongside, and the
#      p99 of the floor server and of a mast logging to /dev/null (not to a
#      file on disk) in every round, to tell the machine's share from mast's.
#   3. OIP POST /v2/models/churn/infer / POST /predict throughput (>= 0.85).
#   4. Dynamic batching on a compute-heavy MLP (bench/make_mlp.py), 32
#      connections: batching on / off throughput (>= 2) and p99 with batching
#      <= 2 x max_queue_delay + one full batch's inference time.
#   5. Resident memory after start serving the example model (<= 60 MiB), and
#      per further small model, 20 of them (<= 5 MiB each).
#   6. Start to ready (/v2/health/ready 200) for the example model (<= 0.5 s).
#   7. /metrics scraped every second during target 1's load: throughput cost
#      (< 3%), as mast's CPU per scrape over its CPU per second under that
#      load; the throughput of scraped against unscraped runs beside it.
#
# Every server listens on 127.0.0.1 on a free port and shares the 2 cores
# with wrk, like the reference figures in the issue. Prints a table of
# figures, targets and verdicts; writes bench/results/targets.json.
# Environment: DURATION (seconds per wrk run, default 10), WARMUP (2),
# STEAL_MAX (1: a wrk run with more hypervisor steal, in percent, is made
# again), STEAL_RETRIES (2: at most so many times), ROUNDS (5: rounds of the
# runs at 32 and 1 connections; each target's figure is the median over
# them), MAST_BIN (build/mast).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
PY=/usr/bin/python3
MAST_BIN="${MAST_BIN:-$ROOT/build/mast}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
STEAL_MAX="${STEAL_MAX:-1}"
STEAL_RETRIES="${STEAL_RETRIES:-2}"
ROUNDS="${ROUNDS:-5}"
SAMPLE="$ROOT/examples/churn/sample.json"
MODEL_ONNX="$ROOT/examples/churn/model.onnx"
RESULTS_DIR="$BENCH/results"

die() { echo "bench: $*" >&2; exit 1; }
[[ "$ROUNDS" =~ ^[1-9][0-9]*$ ]] || die "ROUNDS must be a positive whole number, not '$ROUNDS'"
[[ -x "$MAST_BIN" ]] || die "$MAST_BIN not found: build it first (make build)"
for tool in wrk curl nginx; do
  command -v "$tool" >/dev/null || die "$tool not installed (scripts/setup.sh installs it)"
done

TMP="$(mktemp -d "${TMPDIR:-/tmp}/mast-targets.XXXXXX")"
PIDS=()
cleanup() {
  local pid
  for pid in "${PIDS[@]}"; do kill "$pid" 2>/dev/null || true; done
  for pid in "${PIDS[@]}"; do wait "$pid" 2>/dev/null || true; done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

free_port() {
  "$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
# CPU time (user + system) of a process so far, in ticks of 1/100 s (USER_HZ).
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
wait_ready() {  # url pid
  local i
  for ((i = 0; i < 600; i++)); do
    kill -0 "$2" 2>/dev/null || die "server for $1 exited during startup"
    curl -sf -o /dev/null --max-time 1 "$1" && return 0
    sleep 0.05
  done
  die "$1 did not become ready"
}
stop() {  # pid
  kill "$1" 2>/dev/null || true
  wait "$1" 2>/dev/null || true
}
rss_kib() { awk '/^VmRSS/ {print $2}' "/proc/$1/status"; }
# add_model DIR MODEL MANIFEST: version 1 of a repository model in DIR.
add_model() {
  mkdir -p "$1/1"
  ln -s "$2" "$1/1/model.onnx"
  ln -s "$3" "$1/1/model.yaml"
}
# serve_repo NAME DIR LEVEL: mast serving the model repository DIR, logging at
# LEVEL to $TMP/NAME.log; sets SERVED_PORT and SERVED_PID once it is ready.
serve_repo() {
  SERVED_PORT=$(free_port)
  LOG_LEVEL=$3 "$MAST_BIN" serve --port "$SERVED_PORT" --model-repository "$2" \
    >"$TMP/$1.log" 2>&1 &
  SERVED_PID=$!
  PIDS+=("$SERVED_PID")
  wait_ready "http://127.0.0.1:$SERVED_PORT/v2/health/ready" "$SERVED_PID"
}

# wrk_run NAME URL CONNS THREADS BODY -> writes $TMP/NAME.txt (and .steal,
# and .cpu with CPU_PID set: that process's CPU ticks during the run).
# A run during which the hypervisor took more than STEAL_MAX percent of the
# CPU time (steal) measured the neighbours as much as the server: it is made
# again, up to STEAL_RETRIES times, and the attempt with the least steal is
# kept. Every attempt's steal is kept in NAME.attempts for the report.
wrk_run() {
  local name=$1 url=$2 conns=$3 threads=$4 body=$5
  if ((WARMUP > 0)); then
    WRK_BODY_FILE="$body" wrk -t"$threads" -c"$conns" -d"${WARMUP}s" -s "$BENCH/post.lua" "$url" \
      >/dev/null
  fi
  local attempt before after ticks=0 steal best=""
  : >"$TMP/$name.attempts"
  for ((attempt = 0; attempt <= STEAL_RETRIES; attempt++)); do
    before=$(head -1 /proc/stat)
    [[ -n "${CPU_PID:-}" ]] && ticks=$(cpu_ticks "$CPU_PID")
    WRK_BODY_FILE="$body" wrk -t"$threads" -c"$conns" -d"${DURATION}s" --latency \
      -s "$BENCH/post.lua" "$url" >"$TMP/$name.try"
    after=$(head -1 /proc/stat)
    steal=$(steal_pct "$before" "$after")
    echo "$steal" >>"$TMP/$name.attempts"
    echo "  $name: $(grep Requests/sec "$TMP/$name.try") (steal $steal%)" >&2
    if [[ -z "$best" ]] || awk -v a="$steal" -v b="$best" 'BEGIN { exit !(a < b) }'; then
      best=$steal
      mv "$TMP/$name.try" "$TMP/$name.txt"
      echo "$steal" >"$TMP/$name.steal"
      if [[ -n "${CPU_PID:-}" ]]; then echo $(($(cpu_ticks "$CPU_PID") - ticks)) >"$TMP/$name.cpu"; fi
    fi
    awk -v a="$steal" -v m="$STEAL_MAX" 'BEGIN { exit !(a <= m) }' && break
    ((attempt < STEAL_RETRIES)) && echo "    steal above $STEAL_MAX%: again" >&2
  done
  return 0
}

# Percent of CPU time the hypervisor took from this machine between two
# "cpu" lines of /proc/stat (field 9 is steal): runs with much steal measure
# the neighbours, not the servers.
steal_pct() {
  awk -v a="$1" -v b="$2" 'BEGIN {
    n = split(a, x, " "); split(b, y, " "); total = 0
    for (i = 2; i <= n; i++) total += y[i] - x[i]
    printf "%.1f", (total > 0 ? 100 * (y[9] - x[9]) / total : 0) }'
}

# The OIP body of the sample row, features in the manifest's order.
OIP_BODY="$TMP/oip.json"
"$PY" "$ROOT/bench/make_oip_body.py" "$SAMPLE" "$ROOT/examples/churn/model.yaml" "$OIP_BODY"

# --- dynamic batching on an MLP ---------------------------------------------------------
# Dynamic batching first: this machine's hypervisor takes CPU time away (steal)
# after minutes of both cores at full load, and the CPU-bound batching runs
# suffered most from it at the end (14-16% steal, p99 x5).
"$PY" "$BENCH/make_mlp.py" "$TMP/mlp" >/dev/null
MLP_REPO="$TMP/mlprepo"
add_model "$MLP_REPO/plain" "$TMP/mlp/model.onnx" "$TMP/mlp/model.yaml"
add_model "$MLP_REPO/batched" "$TMP/mlp/model.onnx" "$TMP/mlp/model-batching.yaml"
serve_repo mlp "$MLP_REPO" INFO
MLP_PID=$SERVED_PID
MLP="http://127.0.0.1:$SERVED_PORT"
# Inference time of one row and of one full batch (32 rows), unbatched model.
"$PY" - "$TMP/mlp/sample.json" "$TMP/mlp_batch32.json" <<'PYEOF'
import json, sys
row = json.load(open(sys.argv[1]))
json.dump([row] * 32, open(sys.argv[2], "w"))
PYEOF
infer_ms() {  # body -> median inference_time_ms of 20 calls
  local i
  for i in $(seq 1 20); do
    curl -s -X POST -H 'Content-Type: application/json' --data-binary @"$1" "$MLP/v1/models/plain/predict"
    echo
  done | "$PY" -c 'import json,sys,statistics; print(statistics.median(json.loads(l)["inference_time_ms"] for l in sys.stdin if l.strip()))'
}
MLP_ROW_MS=$(infer_ms "$TMP/mlp/sample.json")
MLP_BATCH_MS=$(infer_ms "$TMP/mlp_batch32.json")
wrk_run mlp_off "$MLP/v1/models/plain/predict" 32 2 "$TMP/mlp/sample.json"
wrk_run mlp_on "$MLP/v1/models/batched/predict" 32 2 "$TMP/mlp/sample.json"
MLP_BATCHES=$(curl -s "$MLP/metrics" | awk '/^mast_batches_total\{model="batched"/ {print $2}')
MLP_BATCH_ROWS=$(curl -s "$MLP/metrics" | awk '/^mast_batch_size_sum\{model="batched"/ {print $2}')
stop "$MLP_PID"

# --- nginx: a fixed JSON body ------------------------------------------------
NGINX_PORT=$(free_port)
mkdir -p "$TMP/nginx"
cat >"$TMP/nginx/nginx.conf" <<EOF
worker_processes 2;
daemon off;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/error.log;
events { worker_connections 1024; }
http {
  access_log off;
  client_body_temp_path $TMP/nginx/body;
  proxy_temp_path $TMP/nginx/proxy;
  fastcgi_temp_path $TMP/nginx/fastcgi;
  uwsgi_temp_path $TMP/nginx/uwsgi;
  scgi_temp_path $TMP/nginx/scgi;
  server {
    listen 127.0.0.1:$NGINX_PORT;
    location / {
      default_type application/json;
      return 200 '{"prediction":[0],"inference_time_ms":0.01}';
    }
  }
}
EOF
nginx -c "$TMP/nginx/nginx.conf" -p "$TMP/nginx" 2>"$TMP/nginx/stderr" &
NGINX_PID=$!
PIDS+=("$NGINX_PID")
wait_ready "http://127.0.0.1:$NGINX_PORT/" "$NGINX_PID"

# --- floor: a server that does nothing per request, polling like mast ------------
# Target 2's reference for what this machine allows at one connection
# (bench/floor_server.c).
cc -O2 -pthread -o "$TMP/floor_server" "$BENCH/floor_server.c" || die "cannot compile floor_server.c"
FLOOR_PORT=$(free_port)
"$TMP/floor_server" "$FLOOR_PORT" &
FLOOR_PID=$!
PIDS+=("$FLOOR_PID")
wait_ready "http://127.0.0.1:$FLOOR_PORT/" "$FLOOR_PID"

# --- FastAPI baseline ----------------------------------------------------------
FASTAPI_PORT=$(free_port)
"$PY" "$BENCH/make_baseline_model.py" "$TMP/baseline.joblib" >/dev/null
BASELINE_MODEL="$TMP/baseline.joblib" "$PY" -m uvicorn --app-dir "$BENCH" fastapi_app:app \
  --host 127.0.0.1 --port "$FASTAPI_PORT" --workers 1 --loop uvloop --http httptools \
  --log-level info >"$TMP/fastapi.log" 2>&1 &
FASTAPI_PID=$!
PIDS+=("$FASTAPI_PID")
wait_ready "http://127.0.0.1:$FASTAPI_PORT/health" "$FASTAPI_PID"

# --- mast as shipped, serving the example model ----------------------------------
# serve_example PORT LOG: mast as shipped serving the example model, its
# stderr to LOG; sets SERVED_PID (not waiting for it to be ready).
serve_example() {
  MODEL_PATH="$MODEL_ONNX" LOG_LEVEL=INFO "$MAST_BIN" serve --port "$1" >"$2" 2>&1 &
  SERVED_PID=$!
  PIDS+=("$SERVED_PID")
}
MAST_PORT=$(free_port)
START_NS=$(date +%s%N)
serve_example "$MAST_PORT" "$TMP/mast.log"
MAST_PID=$SERVED_PID
until curl -sf -o /dev/null "http://127.0.0.1:$MAST_PORT/v2/health/ready"; do
  kill -0 "$MAST_PID" 2>/dev/null || die "mast exited during startup: $(tail -3 "$TMP/mast.log")"
  sleep 0.002
done
READY_MS=$(( ($(date +%s%N) - START_NS) / 1000000 ))
STARTUP_LOGGED_MS=$(grep -o '"startup_ms":[0-9.]*' "$TMP/mast.log" | head -1 | cut -d: -f2 || true)
RSS_START_KIB=$(rss_kib "$MAST_PID")
MAST="http://127.0.0.1:$MAST_PORT"
# The same mast with its log sent to /dev/null instead of a file on disk, for
# one figure: what the access log's disk writes cost target 2's p99 on this
# machine (its lines are still made and written, nothing reaches the disk).
QUIET_PORT=$(free_port)
serve_example "$QUIET_PORT" /dev/null
QUIET_PID=$SERVED_PID
wait_ready "http://127.0.0.1:$QUIET_PORT/v2/health/ready" "$QUIET_PID"

echo "load: $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg); ${DURATION}s per run" >&2
wrk_run fastapi_32 "http://127.0.0.1:$FASTAPI_PORT/predict" 32 2 "$SAMPLE"
stop "$FASTAPI_PID"
# Throughput drifts by +-10% (and more under hypervisor steal) from run to
# run here: ROUNDS rounds (5), and each ratio is taken within a round between
# runs made one after the other (nginx then mast; OIP between two /predict
# runs; scraped right after /predict), then the median of the rounds'
# ratios is reported. At one connection the floor server runs just before
# mast: what this machine's scheduler and hypervisor leave of target 2's p99
# for a server that does no work (nginx's fixed answer, which lets its cores
# halt between requests, shows the cost of waking an idle virtual core).
# Enough scrapes, one a second, to outlast a scraped run and its retries.
for _ in $(seq $((WARMUP + (STEAL_RETRIES + 1) * DURATION + 5))); do echo "url = \"$MAST/metrics\""; done \
  >"$TMP/scrape_every_second"
for round in $(seq 1 "$ROUNDS"); do
  wrk_run "nginx_32_r$round" "http://127.0.0.1:$NGINX_PORT/predict" 32 2 "$SAMPLE"
  wrk_run "mast_32_r$round" "$MAST/predict" 32 2 "$SAMPLE"
  wrk_run "oip_32_r$round" "$MAST/v2/models/churn/infer" 32 2 "$OIP_BODY"
  CPU_PID=$MAST_PID wrk_run "mastb_32_r$round" "$MAST/predict" 32 2 "$SAMPLE"
  # The same /predict load while /metrics is scraped every second, over one
  # kept-alive connection like Prometheus's (one curl process: starting one
  # per scrape would cost the shared cores more than the scrape).
  curl -s --rate 1/s -K "$TMP/scrape_every_second" >/dev/null &
  SCRAPER=$!
  wrk_run "scraped_32_r$round" "$MAST/predict" 32 2 "$SAMPLE"
  kill "$SCRAPER"; wait "$SCRAPER" 2>/dev/null || true
  wrk_run "nginx_1_r$round" "http://127.0.0.1:$NGINX_PORT/predict" 1 1 "$SAMPLE"
  wrk_run "floor_1_r$round" "http://127.0.0.1:$FLOOR_PORT/predict" 1 1 "$SAMPLE"
  wrk_run "mast_1_r$round" "$MAST/predict" 1 1 "$SAMPLE"
  wrk_run "quiet_1_r$round" "http://127.0.0.1:$QUIET_PORT/predict" 1 1 "$SAMPLE"
done
stop "$FLOOR_PID"
stop "$QUIET_PID"
# wrk corrects its latencies for coordinated omission: after a run it adds,
# for each request slower than the mean interval between requests, samples
# for the requests that would have been sent meanwhile. At one connection
# its p99 is then set by the share of the run spent in stalls (a virtual
# core taken by the hypervisor for a millisecond adds dozens of samples), not
# by what the server does per request. mast perf measures each request's own
# latency alongside, for the same servers.
perf_run() {  # name url
  local before after
  before=$(head -1 /proc/stat)
  "$MAST_BIN" perf --url "$2" -i "$SAMPLE" -c 1 -d "${DURATION}s" --warmup "${WARMUP}s" --json \
    >"$TMP/$1.json"
  after=$(head -1 /proc/stat)
  steal_pct "$before" "$after" >"$TMP/$1.steal"
  echo "  $1: $(grep -o '"p99":[0-9.e-]*' "$TMP/$1.json") s (steal $(cat "$TMP/$1.steal")%)" >&2
}
perf_run perf_nginx_1 "http://127.0.0.1:$NGINX_PORT"
perf_run perf_mast_1 "$MAST"
stop "$NGINX_PID"
RSS_LOADED_KIB=$(rss_kib "$MAST_PID")
# Target 7 measured directly: mast's CPU time (user + system, from /proc)
# for 1000 scrapes in a row, after the load above filled the metrics.
SCRAPE_TICKS_BEFORE=$(cpu_ticks "$MAST_PID")
SCRAPE_START_NS=$(date +%s%N)
for _ in $(seq 1000); do echo "url = \"$MAST/metrics\""; done >"$TMP/scrape_urls"
curl -sf -K "$TMP/scrape_urls" >/dev/null || die "scraping /metrics failed"
SCRAPE_WALL_MS=$(( ($(date +%s%N) - SCRAPE_START_NS) / 1000000 ))
SCRAPE_TICKS=$(( $(cpu_ticks "$MAST_PID") - SCRAPE_TICKS_BEFORE ))
SCRAPE_BYTES=$(curl -sf "$MAST/metrics" | wc -c)
stop "$MAST_PID"

# --- memory: 20 small models ---------------------------------------------------------
REPO="$TMP/repo"
for i in $(seq -w 1 20); do
  add_model "$REPO/m$i" "$MODEL_ONNX" "$ROOT/examples/churn/model.yaml"
done
serve_repo repo "$REPO" WARNING
REPO_PORT=$SERVED_PORT REPO_PID=$SERVED_PID
for i in $(seq -w 1 20); do  # every model answers once (lazy allocations count too)
  curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary @"$SAMPLE" \
    "http://127.0.0.1:$REPO_PORT/v1/models/m$i/predict" || die "model m$i did not answer"
done
RSS_20_KIB=$(rss_kib "$REPO_PID")
stop "$REPO_PID"
# The same binary with one model answered once, for the per-model delta.
add_model "$TMP/repo1/m01" "$MODEL_ONNX" "$ROOT/examples/churn/model.yaml"
serve_repo repo1 "$TMP/repo1" WARNING
REPO1_PORT=$SERVED_PORT REPO1_PID=$SERVED_PID
curl -sf -o /dev/null -X POST -H 'Content-Type: application/json' --data-binary @"$SAMPLE" \
  "http://127.0.0.1:$REPO1_PORT/v1/models/m01/predict"
RSS_1_KIB=$(rss_kib "$REPO1_PID")
stop "$REPO1_PID"

# --- report ---------------------------------------------------------------------------------
mkdir -p "$RESULTS_DIR"
"$PY" - "$TMP" "$RESULTS_DIR/targets.json" <<PYEOF
import json, re, sys
tmp, out = sys.argv[1], sys.argv[2]
UNIT = {"us": 1e-3, "ms": 1.0, "s": 1e3}
def wrk(name):
    text = open(f"{tmp}/{name}.txt").read()
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    lat = {}
    for p, v, u in re.findall(r"^\s+(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M):
        lat[p] = float(v) * UNIT[u]
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    steal = float(open(f"{tmp}/{name}.steal").read())
    return {"rps": rps, "p50_ms": lat.get("50"), "p99_ms": lat.get("99"),
            "non_2xx": int(errors.group(1)) if errors else 0, "steal_pct": steal}
import statistics
KINDS = ("nginx_32", "mast_32", "oip_32", "mastb_32", "scraped_32", "nginx_1", "floor_1",
         "mast_1", "quiet_1")
ROUND_IDS = range(1, $ROUNDS + 1)
rounds = [f"{k}_r{i}" for k in KINDS for i in ROUND_IDS]
r = {n: wrk(n) for n in ["fastapi_32", "mlp_off", "mlp_on"] + rounds}
def per_round(kind, field="rps"):
    return [r[f"{kind}_r{i}"][field] for i in ROUND_IDS]
def median(kind, field="rps"):
    return statistics.median(per_round(kind, field))
def rps(kind, i):
    return r[f"{kind}_r{i}"]["rps"]
# Per-round ratios of adjacent runs.
RATIOS = {
    "mast/nginx": [rps("mast_32", i) / rps("nginx_32", i) for i in ROUND_IDS],
    "oip/predict": [rps("oip_32", i) / ((rps("mast_32", i) + rps("mastb_32", i)) / 2)
                    for i in ROUND_IDS],
    "scraped/predict": [rps("scraped_32", i) / rps("mastb_32", i) for i in ROUND_IDS],
}
def ratio(name):
    return statistics.median(RATIOS[name])
# Target 7: one scrape a second takes scrape_cpu_ms of mast's CPU out of the
# CPU mast spends per second under target 1's load (both cores busy, the
# rest is wrk's): the share of its throughput the scrapes cost. The
# throughput comparison (scraped / unscraped runs) is printed beside it; it
# drifts by several percent between runs here, more than the 3% it must
# resolve. Ticks are 1/100 s (USER_HZ); the scrape figure is an upper bound
# (it includes the I/O threads polling after each scrape).
scrape_cpu_ms = $SCRAPE_TICKS * 10.0 / 1000
load_cpu_ms_per_s = statistics.median(
    int(open(f"{tmp}/mastb_32_r{i}.cpu").read()) * 10.0 / $DURATION for i in ROUND_IDS)
scrape_cost_pct = 100 * scrape_cpu_ms / load_cpu_ms_per_s
delay_ms = 2.0
batch_ms = float("$MLP_BATCH_MS")
rows = [
  ("1 mast/nginx @32 (median ratio)", ratio("mast/nginx"), ">= 0.5", lambda v: v >= 0.5),
  ("1 mast/FastAPI @32", median("mast_32") / r["fastapi_32"]["rps"], ">= 40", lambda v: v >= 40),
  ("2 p50 @1 (us, median)", median("mast_1", "p50_ms") * 1000, "<= 50", lambda v: v <= 50),
  ("2 p99 @1 (us, median)", median("mast_1", "p99_ms") * 1000, "<= 150", lambda v: v <= 150),
  ("3 OIP/predict @32 (median ratio)", ratio("oip/predict"), ">= 0.85", lambda v: v >= 0.85),
  ("4 batching on/off @32", r["mlp_on"]["rps"] / r["mlp_off"]["rps"], ">= 2", lambda v: v >= 2),
  ("4 p99 on (ms) vs 2*delay+batch", r["mlp_on"]["p99_ms"], "<= %.2f" % (2 * delay_ms + batch_ms),
   lambda v: v <= 2 * delay_ms + batch_ms),
  ("5 RSS after start (MiB)", $RSS_START_KIB / 1024, "<= 60", lambda v: v <= 60),
  ("5 RSS per extra model (MiB)", ($RSS_20_KIB - $RSS_1_KIB) / 1024 / 19, "<= 5", lambda v: v <= 5),
  ("6 start to ready (ms)", $READY_MS, "<= 500", lambda v: v <= 500),
  ("7 /metrics scrape cost (% CPU)", scrape_cost_pct, "< 3", lambda v: v < 3),
]
print()
print("%-34s %12s %10s  %s" % ("target", "measured", "goal", "verdict"))
for name, value, goal, ok in rows:
    print("%-34s %12.2f %10s  %s" % (name, value, goal, "ok" if ok(value) else "MISSED"))
print()
print("req/s (medians): nginx %.0f, mast %.0f, FastAPI %.0f; MLP off %.0f, on %.0f" % (
      median("nginx_32"), median("mast_32"), r["fastapi_32"]["rps"], r["mlp_off"]["rps"],
      r["mlp_on"]["rps"]))
def p50_p99(kind):  # medians of the rounds at one connection
    return "p50 %.0f us, p99 %.0f us" % (median(kind, "p50_ms") * 1000,
                                         median(kind, "p99_ms") * 1000)
print("at 1 connection (medians): mast %s; nginx's fixed answer %s" % (p50_p99("mast_1"),
                                                                      p50_p99("nginx_1")))
print("  the floor (a server doing nothing per request, polling like mast): " + p50_p99("floor_1"))
print("  mast with its log to /dev/null instead of a file on disk: " + p50_p99("quiet_1"))
print("  p99 per round (us): mast %s; floor %s; mast, log to /dev/null %s" % tuple(", ".join(
      "%.0f" % (v * 1000) for v in per_round(kind, "p99_ms"))
      for kind in ("mast_1", "floor_1", "quiet_1")))
def perf(name):
    level = json.load(open(f"{tmp}/{name}.json"))["levels"][0]
    lat = level["latency_seconds"]
    return "p50 %.0f us, p99 %.0f us, max %.2f ms, %.0f req/s (steal %s%%)" % (
        lat["p50"] * 1e6, lat["p99"] * 1e6, lat["max"] * 1e3, level["throughput_per_second"],
        open(f"{tmp}/{name}.steal").read().strip())
print("  each request's own latency (mast perf, no coordinated-omission correction):")
print("    mast  " + perf("perf_mast_1"))
print("    nginx " + perf("perf_nginx_1"))
for kind in KINDS:
    field = "rps" if kind.endswith("32") else "p50_ms"
    scale = 1 if field == "rps" else 1000
    print("  %-10s rounds (%s): %s" % (kind, "req/s" if field == "rps" else "p50 us", ", ".join(
        "%.0f" % (v * scale) for v in per_round(kind, field))))
for name, values in RATIOS.items():
    print("  %-15s per round: %s" % (name, ", ".join("%.3f" % v for v in values)))
print("/metrics: %d bytes; 1000 scrapes took %d ms of wall time and %.2f ms of mast's CPU each; "
      "under target 1's load mast uses %.0f ms of CPU a second (median), so one scrape a second "
      "costs %.3f%% of it" % ($SCRAPE_BYTES, $SCRAPE_WALL_MS, scrape_cpu_ms, load_cpu_ms_per_s,
      scrape_cost_pct))
print("  cross-check, throughput scraped / unscraped (median of rounds, drifts by several "
      "percent): %.3f" % ratio("scraped/predict"))
print("MLP: one row %.3f ms, a 32-row batch %.3f ms; batched model ran %s batches for %s rows"
      % (float("$MLP_ROW_MS"), batch_ms, "$MLP_BATCHES", "$MLP_BATCH_ROWS"))
print("RSS: start %.1f MiB, after load %.1f MiB; 1 model %.1f MiB, 20 models %.1f MiB; "
      "ready in %d ms (logged startup %s ms)" % ($RSS_START_KIB / 1024, $RSS_LOADED_KIB / 1024,
      $RSS_1_KIB / 1024, $RSS_20_KIB / 1024, $READY_MS, "$STARTUP_LOGGED_MS"))
def attempts(name):
    return [float(v) for v in open(f"{tmp}/{name}.attempts").read().split()]
repeated = {n: attempts(n) for n in r if len(attempts(n)) > 1}
if repeated:
    print("runs made again for steal above $STEAL_MAX% (steal of each attempt; the least kept): "
          + "; ".join("%s %s" % (n, ", ".join("%.1f" % v for v in a)) for n, a in repeated.items()))
stolen = {n: r[n]["steal_pct"] for n in r if r[n]["steal_pct"] >= 5}
print("hypervisor steal: max %.1f%% (%s)" % (max(v["steal_pct"] for v in r.values()),
      ", ".join("%s %.0f%%" % kv for kv in stolen.items()) if stolen else "no run above 5%"))
if stolen:
    print("  runs above 5% steal measured the neighbours too: compare them with care")
bad = [n for n in r if r[n]["non_2xx"]]
if bad:
    print("non-2xx answers in: " + ", ".join(bad))
json.dump({"runs": r, "targets": [{"name": n, "value": v, "goal": g, "ok": ok(v)} for n, v, g, ok in rows],
           "each_request_at_1": {n: json.load(open(f"{tmp}/{n}.json"))["levels"][0]
                                 for n in ("perf_mast_1", "perf_nginx_1")},
           "steal_attempts": repeated, "scrape_cpu_ms": scrape_cpu_ms, "load_cpu_ms_per_s": load_cpu_ms_per_s,
           "scraped_over_unscraped": ratio("scraped/predict")},
          open(out, "w"), indent=1)
PYEOF
