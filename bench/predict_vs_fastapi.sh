#!/usr/bin/env bash
# Benchmark: mast vs the classic FastAPI + uvicorn + scikit-learn service.
#
#   make bench-fastapi              # or: bash bench/predict_vs_fastapi.sh
#   DURATION=5 WARMUP=1 bash bench/predict_vs_fastapi.sh
#
# Serves the same LogisticRegression (20 numeric features, examples/churn)
# from both servers on 127.0.0.1 (free ports), checks that both answer
# examples/churn/sample.json with the same (and the expected) prediction, then
# drives POST /predict with wrk (keep-alive; 32 connections with -t2, then
# 1 connection with -t1), DURATION seconds per run after a WARMUP-second run
# whose numbers are discarded. Prints req/s, p50, p99 and non-2xx counts,
# the mast/FastAPI ratios, and writes bench/results/latest.json.
#
# Logging: mast runs at its shipped default level INFO, i.e. WITH its access
# log (one JSON line per request), and uvicorn with its default access log,
# so both pay for per-request logging. Both servers' stdout/stderr go to
# /dev/null so the terminal is not flooded; set LOG_DIR=dir to keep them
# (mast.log, fastapi.log; expect ~250 bytes per request).
#
# Environment (all optional):
#   DURATION=10  WARMUP=2        seconds per measured / warm-up wrk run
#   MAST_BIN=build/mast          the mast binary (build it with `make build`)
#   UVICORN_LOOP, UVICORN_HTTP   force uvicorn's --loop / --http (default:
#                                uvloop + httptools if importable, else
#                                asyncio + h11)
#   LOG_DIR                      keep server logs there instead of /dev/null
#
# Only Debian's /usr/bin/python3 is used: it has fastapi, uvicorn, sklearn,
# joblib and pandas; the python3 first on PATH may not.
# Caveat: wrk and the server under test share the machine's cores; see
# bench/README.md.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BENCH="$ROOT/bench"
PY=/usr/bin/python3
MAST_BIN="${MAST_BIN:-$ROOT/build/mast}"
DURATION="${DURATION:-10}"
WARMUP="${WARMUP:-2}"
LOG_DIR="${LOG_DIR:-}"
MODEL_ONNX="$ROOT/examples/churn/model.onnx"
SAMPLE="$ROOT/examples/churn/sample.json"
EXPECTED="$ROOT/tests/fixtures/models/logreg20_manifest/expected.json"
RESULTS_DIR="$BENCH/results"
WRK_TIMEOUT=5s

die() { echo "bench: $*" >&2; exit 1; }

[[ "$DURATION" =~ ^[0-9]+$ && "$DURATION" -gt 0 ]] || die "DURATION must be a positive integer (seconds)"
[[ "$WARMUP" =~ ^[0-9]+$ ]] || die "WARMUP must be a non-negative integer (seconds)"
[[ -x "$MAST_BIN" ]] || die "$MAST_BIN not found: build it first (make build)"
command -v wrk >/dev/null || die "wrk not installed (apt-get install wrk)"
command -v curl >/dev/null || die "curl not installed"
[[ -x "$PY" ]] || die "$PY not found (Debian's python3 with fastapi, uvicorn, sklearn)"
"$PY" -c "import fastapi, uvicorn, sklearn, joblib, pandas" 2>/dev/null \
  || die "$PY lacks fastapi/uvicorn/sklearn/joblib/pandas (apt-get install python3-fastapi python3-uvicorn python3-sklearn python3-joblib python3-pandas)"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/mast-bench.XXXXXX")"
MAST_PID=""
FASTAPI_PID=""
cleanup() {
  local pid
  for pid in "$MAST_PID" "$FASTAPI_PID"; do
    if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
    fi
  done
  for pid in "$MAST_PID" "$FASTAPI_PID"; do
    [[ -n "$pid" ]] && wait "$pid" 2>/dev/null || true
  done
  rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

if [[ -n "$LOG_DIR" ]]; then
  mkdir -p "$LOG_DIR"
  MAST_LOG="$LOG_DIR/mast.log"; FASTAPI_LOG="$LOG_DIR/fastapi.log"
else
  MAST_LOG=/dev/null; FASTAPI_LOG=/dev/null
fi

# --- uvicorn event loop / HTTP parser -------------------------------------
if [[ -z "${UVICORN_LOOP:-}" ]]; then
  if "$PY" -c "import uvloop" 2>/dev/null; then UVICORN_LOOP=uvloop; else UVICORN_LOOP=asyncio; fi
fi
if [[ -z "${UVICORN_HTTP:-}" ]]; then
  if "$PY" -c "import httptools" 2>/dev/null; then UVICORN_HTTP=httptools; else UVICORN_HTTP=h11; fi
fi

# --- baseline model: the same LogisticRegression, re-trained ---------------
BASELINE_MODEL="$TMP/logreg20_baseline.joblib"
"$PY" "$BENCH/make_baseline_model.py" "$BASELINE_MODEL"

# --- two free ports on 127.0.0.1 -------------------------------------------
read -r MAST_PORT FASTAPI_PORT < <("$PY" - <<'PYEOF'
import socket
socks = [socket.socket() for _ in range(2)]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(*[s.getsockname()[1] for s in socks])
for s in socks:
    s.close()
PYEOF
)

# --- start both servers ------------------------------------------------------
# LOG_LEVEL=INFO pins mast's shipped default even if the caller exported
# another level.
MODEL_PATH="$MODEL_ONNX" LOG_LEVEL=INFO \
  "$MAST_BIN" serve --host 127.0.0.1 --port "$MAST_PORT" >"$MAST_LOG" 2>&1 &
MAST_PID=$!

BASELINE_MODEL="$BASELINE_MODEL" \
  "$PY" -m uvicorn --app-dir "$BENCH" fastapi_app:app \
  --host 127.0.0.1 --port "$FASTAPI_PORT" --workers 1 \
  --loop "$UVICORN_LOOP" --http "$UVICORN_HTTP" --log-level info \
  >"$FASTAPI_LOG" 2>&1 &
FASTAPI_PID=$!

wait_healthy() {  # name pid url
  local i
  for ((i = 0; i < 300; i++)); do
    kill -0 "$2" 2>/dev/null || die "$1 exited during startup (rerun with LOG_DIR=/tmp/mast-bench-logs to see why)"
    if curl -sf -o /dev/null --max-time 1 "$3/health"; then return 0; fi
    sleep 0.1
  done
  die "$1 did not answer $3/health within 30 s"
}
MAST_URL="http://127.0.0.1:$MAST_PORT"
FASTAPI_URL="http://127.0.0.1:$FASTAPI_PORT"
wait_healthy mast "$MAST_PID" "$MAST_URL"
wait_healthy FastAPI "$FASTAPI_PID" "$FASTAPI_URL"

# --- correctness: both answer the sample, with equal predictions -------------
predict_once() {  # name url -> prints the prediction list
  local out code
  out="$TMP/check_$1.json"
  code=$(curl -s -o "$out" -w '%{http_code}' --max-time 10 -X POST \
         -H 'Content-Type: application/json' --data-binary @"$SAMPLE" "$2/predict") \
    || die "$1: curl POST /predict failed"
  [[ "$code" == 200 ]] || die "$1: POST /predict answered HTTP $code: $(head -c 500 "$out")"
  "$PY" -c 'import json,sys; d=json.load(open(sys.argv[1])); assert isinstance(d.get("inference_time_ms"), (int, float)), d; print(json.dumps(d["prediction"]))' "$out" \
    || die "$1: unexpected response: $(head -c 500 "$out")"
}
MAST_PRED=$(predict_once mast "$MAST_URL")
FASTAPI_PRED=$(predict_once FastAPI "$FASTAPI_URL")
EXPECTED_PRED=$("$PY" -c 'import json,sys; e=json.load(open(sys.argv[1])); s=json.load(open(sys.argv[2])); i=[list(r) for r in e["inputs"]].index([s[n] for n in e["feature_names"]]); print(json.dumps([e["label"][i]]))' "$EXPECTED" "$SAMPLE")
[[ "$MAST_PRED" == "$FASTAPI_PRED" ]] || die "predictions differ: mast $MAST_PRED, FastAPI $FASTAPI_PRED"
[[ "$MAST_PRED" == "$EXPECTED_PRED" ]] || die "prediction $MAST_PRED != expected $EXPECTED_PRED"

MAST_VERSION=$("$MAST_BIN" --version 2>/dev/null | head -1 || echo unknown)
UVICORN_VERSION=$("$PY" -c 'import uvicorn, fastapi, sklearn; print("uvicorn %s, fastapi %s, scikit-learn %s" % (uvicorn.__version__, fastapi.__version__, sklearn.__version__))')
LOAD_BEFORE=$(cut -d' ' -f1-3 /proc/loadavg)
echo "mast     $MAST_URL  (pid $MAST_PID, $MAST_VERSION, LOG_LEVEL=INFO, logs -> $MAST_LOG)"
echo "FastAPI  $FASTAPI_URL  (pid $FASTAPI_PID, $UVICORN_VERSION, 1 worker, --loop $UVICORN_LOOP --http $UVICORN_HTTP, logs -> $FASTAPI_LOG)"
echo "sample prediction: mast $MAST_PRED, FastAPI $FASTAPI_PRED (expected $EXPECTED_PRED)"
echo "wrk: keep-alive, ${DURATION}s per run after ${WARMUP}s warm-up; $(nproc) cores; load average $LOAD_BEFORE"
echo

# --- load --------------------------------------------------------------------
RUNS=()
run_wrk() {  # name url connections threads
  local name=$1 url=$2 conns=$3 threads=$4 out
  out="$TMP/wrk_${name}_${conns}.txt"
  echo "  wrk $name: $conns connection(s), $threads thread(s) ..." >&2
  if ((WARMUP > 0)); then
    WRK_BODY_FILE="$SAMPLE" wrk -t"$threads" -c"$conns" -d"${WARMUP}s" \
      --timeout "$WRK_TIMEOUT" -s "$BENCH/post.lua" "$url/predict" >/dev/null
  fi
  WRK_BODY_FILE="$SAMPLE" wrk -t"$threads" -c"$conns" -d"${DURATION}s" \
    --timeout "$WRK_TIMEOUT" --latency -s "$BENCH/post.lua" "$url/predict" >"$out"
  RUNS+=("$name" "$conns" "$threads" "$out")
}
run_wrk mast "$MAST_URL" 32 2
run_wrk mast "$MAST_URL" 1 1
run_wrk FastAPI "$FASTAPI_URL" 32 2
run_wrk FastAPI "$FASTAPI_URL" 1 1
LOAD_AFTER=$(cut -d' ' -f1-3 /proc/loadavg)

ALIVE="mast=$(kill -0 "$MAST_PID" 2>/dev/null && echo yes || echo no) FastAPI=$(kill -0 "$FASTAPI_PID" 2>/dev/null && echo yes || echo no)"

# --- report --------------------------------------------------------------------
mkdir -p "$RESULTS_DIR"
echo
RESULTS_JSON="$RESULTS_DIR/latest.json" \
BENCH_META=$("$PY" -c 'import json,sys; print(json.dumps(dict(zip(sys.argv[1::2], sys.argv[2::2]))))' \
  duration_s "$DURATION" warmup_s "$WARMUP" wrk_timeout "$WRK_TIMEOUT" \
  mast_version "$MAST_VERSION" mast_log_level INFO \
  python_versions "$UVICORN_VERSION" uvicorn_loop "$UVICORN_LOOP" uvicorn_http "$UVICORN_HTTP" \
  sample_prediction "$MAST_PRED" cores "$(nproc)" \
  loadavg_before "$LOAD_BEFORE" loadavg_after "$LOAD_AFTER" servers_alive_after "$ALIVE" \
  git_commit "$(git -C "$ROOT" rev-parse --short HEAD 2>/dev/null || echo unknown)" \
  git_dirty "$(git -C "$ROOT" status --porcelain 2>/dev/null | grep -qv '^??' && echo yes || echo no)") \
"$PY" - "${RUNS[@]}" <<'PYEOF'
import datetime, json, os, re, sys

UNIT_MS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}


def dur_ms(text):
    m = re.fullmatch(r"([0-9.]+)(us|ms|s|m|h)", text)
    if not m:
        raise ValueError("cannot parse wrk duration %r" % text)
    return float(m.group(1)) * UNIT_MS[m.group(2)]


def parse(path):
    text = open(path).read()
    def grab(pattern, conv=float, default=None):
        m = re.search(pattern, text, re.M)
        return conv(m.group(1)) if m else default
    res = {
        "requests_per_s": grab(r"^Requests/sec:\s+([0-9.]+)"),
        "p50_ms": grab(r"^\s+50%\s+(\S+)", dur_ms),
        "p75_ms": grab(r"^\s+75%\s+(\S+)", dur_ms),
        "p90_ms": grab(r"^\s+90%\s+(\S+)", dur_ms),
        "p99_ms": grab(r"^\s+99%\s+(\S+)", dur_ms),
        "requests": grab(r"^\s+(\d+) requests in", int),
        "non_2xx_3xx": grab(r"^\s+Non-2xx or 3xx responses:\s+(\d+)", int, 0),
        "socket_errors": {"connect": 0, "read": 0, "write": 0, "timeout": 0},
    }
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), "
                  r"timeout (\d+)", text)
    if m:
        res["socket_errors"] = dict(zip(("connect", "read", "write", "timeout"),
                                        map(int, m.groups())))
    missing = [k for k in ("requests_per_s", "p50_ms", "p99_ms", "requests")
               if res[k] is None]
    if missing:
        sys.exit("bench: could not parse %s from wrk output %s:\n%s"
                 % (missing, path, text))
    res["wrk_output"] = text
    return res


args = sys.argv[1:]
runs = []
for i in range(0, len(args), 4):
    name, conns, threads, path = args[i:i + 4]
    r = {"server": name, "connections": int(conns), "threads": int(threads)}
    r.update(parse(path))
    runs.append(r)

def fmt_ms(v):
    return "%.3f ms" % v if v < 10 else "%.1f ms" % v

print("%-8s %5s %12s %11s %11s %9s %7s" % ("server", "conns", "req/s", "p50",
                                          "p99", "non-2xx", "sockerr"))
for r in runs:
    print("%-8s %5d %12.0f %11s %11s %9d %7d" % (
        r["server"], r["connections"], r["requests_per_s"], fmt_ms(r["p50_ms"]),
        fmt_ms(r["p99_ms"]), r["non_2xx_3xx"], sum(r["socket_errors"].values())))

by = {(r["server"], r["connections"]): r for r in runs}
ratios = {}
print()
for c in (32, 1):
    m, f = by[("mast", c)], by[("FastAPI", c)]
    tput = m["requests_per_s"] / f["requests_per_s"] if f["requests_per_s"] else None
    p50 = f["p50_ms"] / m["p50_ms"] if m["p50_ms"] else None
    p99 = f["p99_ms"] / m["p99_ms"] if m["p99_ms"] else None
    ratios["@%d" % c] = {"throughput_mast_over_fastapi": tput,
                         "p50_fastapi_over_mast": p50,
                         "p99_fastapi_over_mast": p99}
    show = lambda v: "n/a" if v is None else "%.1fx" % v
    print("mast/FastAPI throughput @%d: %s" % (c, show(tput)))
for c in (32, 1):
    r = ratios["@%d" % c]
    print("FastAPI/mast latency @%d: p50 %s, p99 %s (how many times lower mast's is)"
          % (c, "n/a" if r["p50_fastapi_over_mast"] is None else "%.1fx" % r["p50_fastapi_over_mast"],
             "n/a" if r["p99_fastapi_over_mast"] is None else "%.1fx" % r["p99_fastapi_over_mast"]))

bad = [r for r in runs if r["non_2xx_3xx"] or sum(r["socket_errors"].values())]
for r in bad:
    print("WARNING: %s @%d: %d non-2xx/3xx responses, socket errors %s"
          % (r["server"], r["connections"], r["non_2xx_3xx"], r["socket_errors"]))

meta = json.loads(os.environ["BENCH_META"])
if "no" in meta["servers_alive_after"]:
    print("WARNING: a server died during the run: %s" % meta["servers_alive_after"])
print("\nload average: before %s, after %s (%s cores shared by wrk and the server)"
      % (meta["loadavg_before"], meta["loadavg_after"], meta["cores"]))

out = {"timestamp": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
       "benchmark": "POST /predict, examples/churn logistic regression (20 features), wrk keep-alive",
       "meta": meta, "runs": runs, "ratios": ratios}
path = os.environ["RESULTS_JSON"]
with open(path + ".tmp", "w") as f:
    json.dump(out, f, indent=2)
    f.write("\n")
os.replace(path + ".tmp", path)
print("results: %s" % path)
PYEOF
