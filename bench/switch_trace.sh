#!/usr/bin/env bash
# Which other threads took the CPUs while a latency run went on. Traces the
# kernel's context switches (ftrace's sched_switch event) while COMMAND runs,
# keeping only those that involve a thread whose name is not in KEEP. Then
# prints, per such thread:
#   - the CPU time it took;
#   - how many times it ran, and its longest single run;
#   - every run over 1 ms, with its start in seconds after COMMAND started.
# The kernel does not preempt its own code here (PREEMPT_NONE), so a long run
# of a kernel thread on the core of a server's connection is a stall for
# that connection's requests. bench/serial_latency.c lists the slow requests
# with the same time origin.
#
#   KEEP="mast mast-io-1 serial_latency" bash bench/switch_trace.sh \
#     ./serial_latency PORT 30 examples/churn/sample.json
#
# KEEP holds the names (as in /proc/PID/task/TID/comm, at most 15 characters)
# of the threads the run itself consists of (default: mast's I/O threads and
# the two clients). Needs root and tracefs (/sys/kernel/tracing). Leaves
# tracing off and the event's filter empty. A diagnostic, not a benchmark:
# tracing adds about a microsecond to each traced switch.
set -euo pipefail

T=/sys/kernel/tracing
KEEP="${KEEP:-mast mast-io-1 serial_latency wrk}"
(($# > 0)) || { echo "usage: KEEP=\"names...\" $0 COMMAND [ARGS...]" >&2; exit 2; }
[[ -w "$T/trace_marker" ]] || { echo "switch_trace: needs root and tracefs at $T" >&2; exit 1; }

filter_prev="" filter_next=""
for name in $KEEP; do
  filter_prev+="${filter_prev:+ && }prev_comm != \"$name\""
  filter_next+="${filter_next:+ && }next_comm != \"$name\""
done
OUT="$(mktemp)"
restore() {
  echo 0 >"$T/tracing_on"
  echo 0 >"$T/events/sched/sched_switch/enable"
  echo 0 >"$T/events/sched/sched_switch/filter"
  echo >"$T/trace"
  rm -f "$OUT"
}
trap restore EXIT

echo 0 >"$T/tracing_on"
echo >"$T/trace"
echo 65536 >"$T/buffer_size_kb"
echo mono >"$T/trace_clock"
echo "$filter_prev || $filter_next" >"$T/events/sched/sched_switch/filter"
echo 1 >"$T/events/sched/sched_switch/enable"
echo 1 >"$T/tracing_on"
echo "switch_trace start" >"$T/trace_marker"
"$@"
echo 0 >"$T/tracing_on"
cat "$T/trace" >"$OUT"

/usr/bin/python3 - "$OUT" "$KEEP" <<'PYEOF'
import collections, re, sys
path, keep = sys.argv[1], set(sys.argv[2].split())
switch = re.compile(r"\[(\d+)\].*?\s([\d.]+): sched_switch: prev_comm=(.*?) prev_pid=\d+ "
                    r".*?==> next_comm=(.*?) next_pid=\d+")
marker = re.compile(r"\s([\d.]+): tracing_mark_write: switch_trace start")
t0 = None
running = {}  # cpu -> (thread, since)
total = collections.Counter()
runs = collections.Counter()
longest = collections.defaultdict(float)
long_runs = []
lost = False
for line in open(path):
    if "LOST" in line:
        lost = True
    m = marker.search(line)
    if m:
        t0 = float(m.group(1))
        continue
    m = switch.search(line)
    if not m:
        continue
    cpu, t, prev, nxt = int(m.group(1)), float(m.group(2)), m.group(3), m.group(4)
    # A run is known when it both starts and ends with a traced switch, which
    # holds for every thread outside KEEP.
    if cpu in running and running[cpu][0] == prev and prev not in keep:
        d = t - running[cpu][1]
        total[prev] += d
        runs[prev] += 1
        longest[prev] = max(longest[prev], d)
        if d > 0.001:
            long_runs.append((running[cpu][1], d, prev, cpu))
    running[cpu] = (nxt, t)
if t0 is None:
    sys.exit("switch_trace: the start marker is missing from the trace")
if lost:
    print("warning: the trace buffer overflowed; some switches are missing")
print("%-24s %10s %7s %12s" % ("thread", "CPU ms", "runs", "longest ms"))
for name, seconds in total.most_common(15):
    print("%-24s %10.1f %7d %12.3f" % (name, seconds * 1e3, runs[name], longest[name] * 1e3))
print("runs over 1 ms (seconds after the start, ms, thread, cpu):")
for start, d, name, cpu in sorted(long_runs):
    print("  %9.3f %8.2f  %s cpu%d" % (start - t0, d * 1e3, name, cpu))
PYEOF
