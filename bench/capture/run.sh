#!/usr/bin/env bash
# Capture benchmark: what recording every API call costs.
#
#   bench/capture/run.sh                 # from the repository root (or anywhere)
#   DUR=10s REPS=3 RATE=2000 BENCH_DIR=/var/tmp bench/capture/run.sh
#
# 1. Journal API throughput: concurrent appenders (64 and 256) each appending a ~1.5 KB
#    CloudTrail record and waiting for its fsync, on the disk under $BENCH_DIR (bench/capture).
# 2. End to end: `opentrail serve` (built from this checkout, data dir under $BENCH_DIR) under
#    authenticated STS GetCallerIdentity calls, each recorded in the journal before it is
#    answered: closed loop with wrk (64 connections, $REPS runs), then open loop at $RATE req/s
#    and at the peer's rate (bench/authload) for latency. The journal is counted afterwards.
# 3. Peak RSS (VmHWM) of the server and of the journal bench process.
# 4. The same GetCallerIdentity load against moto_server, as the peer.
#
# Load generator and server share the machine: on a 2-core box the numbers are a floor.
set -euo pipefail

DUR=${DUR:-10s}
REPS=${REPS:-3}
CONNS=${CONNS:-64}
RATE=${RATE:-2000}
BENCH_DIR=${BENCH_DIR:-/var/tmp}
KEY=AKIABENCHCAPTURE0001
SECRET=capture-bench-secret-0123456789abcdefgh

cd "$(dirname "$0")/../.."
for tool in go wrk curl python3 moto_server; do
	command -v "$tool" >/dev/null || { echo "run.sh: $tool is not installed" >&2; exit 1; }
done
work=$(mktemp -d "$BENCH_DIR/capture-bench.XXXXXX")
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	wait 2>/dev/null || true
	rm -rf "$work"
}
trap cleanup EXIT

freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
hwm() { awk '/^VmHWM:/ {print $2 " " $3}' "/proc/$1/status"; }
median() { sort -g | awk '{a[NR]=$1} END {if (NR) printf "%.2f\n", a[int((NR+1)/2)]; else print "n/a"}'; }
answered=0 # opentrail calls answered 200, counted from the load generators' reports
wait_http() { # url pid
	for _ in $(seq 150); do
		curl -sf -o /dev/null "$1" && return 0
		kill -0 "$2" 2>/dev/null || { echo "run.sh: server exited" >&2; return 1; }
		sleep 0.1
	done
	echo "run.sh: $1 did not answer" >&2
	return 1
}

# wrk_runs NAME URL SCRIPT: $REPS closed-loop runs; prints each and the medians.
wrk_runs() {
	local name=$1 url=$2 script=$3 out rps p50 p99 bad
	: >"$work/$name.rps"; : >"$work/$name.p50"; : >"$work/$name.p99"
	for i in $(seq "$REPS"); do
		out=$(wrk -t2 -c"$CONNS" -d"$DUR" --timeout 10s --latency -s "$script" "$url")
		rps=$(awk '/^Requests\/sec:/ {print $2}' <<<"$out")
		p50=$(awk '$1 == "50%" {print $2}' <<<"$out")
		p99=$(awk '$1 == "99%" {print $2}' <<<"$out")
		bad=$(awk '/Non-2xx or 3xx responses:/ {print $5}' <<<"$out")
		errs=$(grep -o 'Socket errors:.*' <<<"$out" || true)
		if [ "$name" = opentrail ]; then answered=$((answered + $(awk '/requests in/ {print $1}' <<<"$out"))); fi
		echo "$name: wrk run $i: ${rps} req/s, latency p50 $p50 p99 $p99${bad:+, NON-2xx $bad}${errs:+, $errs}"
		echo "$rps" >>"$work/$name.rps"
		echo "$p50" | sed 's/ms$//; s/us$/e-3/; s/s$/e3/' >>"$work/$name.p50"
		echo "$p99" | sed 's/ms$//; s/us$/e-3/; s/s$/e3/' >>"$work/$name.p99"
		if [ -n "$bad" ]; then echo "run.sh: $name answered $bad requests with errors" >&2; exit 1; fi
	done
	echo "$name: median of $REPS: $(median <"$work/$name.rps") req/s, p50 $(median <"$work/$name.p50")ms, p99 $(median <"$work/$name.p99")ms"
}

echo "== machine"
echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "nproc: $(nproc); $(lscpu | grep 'Model name' | sed 's/  */ /g')"
echo "kernel: $(uname -r); $(go version)"
echo "disk: $(findmnt -n -o SOURCE,FSTYPE -T "$work")"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "commit: $(git rev-parse --short HEAD 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- 2>/dev/null || echo ' (+ local changes)')"

go build -o "$work/opentrail" ./cmd/opentrail
go build -o "$work/capture" ./bench/capture
go build -o "$work/authload" ./bench/authload

echo
echo "== 1. journal API: concurrent Append of ~1.5 KB records, each fsynced"
"$work/capture" -dir "$work" -c 64,256 -d "$DUR"

echo
echo "== 2. opentrail serve: STS GetCallerIdentity, authenticated, recorded"
port=$(freeport)
url="http://127.0.0.1:$port"
"$work/opentrail" serve --data-dir "$work/data" --listen "127.0.0.1:$port" --account-id 123456789012 \
	--root-access-key-id "$KEY" --root-secret-access-key "$SECRET" --log-level warn >"$work/server.log" 2>&1 &
spid=$!
pids+=("$spid")
wait_http "$url/health" "$spid"
echo "opentrail: RSS after start (VmHWM) $(hwm "$spid")"
warm=$("$work/authload" -endpoint "$url" -key "$KEY" -secret "$SECRET" -c 4 -d 1s)
answered=$((answered + 1 + $(grep -o '[0-9]* ok' <<<"$warm" | cut -d' ' -f1)))
echo "opentrail: warm-up: $warm"
"$work/authload" -endpoint "$url" -key "$KEY" -secret "$SECRET" -wrk-script "$work/ot.lua"
wrk_runs opentrail "$url/" "$work/ot.lua"
# ot_open RATE: an open-loop run against opentrail; counts its answered calls.
ot_open() {
	local out
	out=$("$work/authload" -endpoint "$url" -key "$KEY" -secret "$SECRET" -rate "$1" -d "$DUR")
	# +1: authload's first request, which checks the credentials.
	answered=$((answered + 1 + $(grep -o '[0-9]* ok' <<<"$out" | cut -d' ' -f1)))
	echo "opentrail: $out"
}
ot_open "$RATE"

echo
echo "== 4. moto_server (peer): the same GetCallerIdentity load"
mport=$(freeport)
murl="http://127.0.0.1:$mport"
moto_server -H 127.0.0.1 -p "$mport" >"$work/moto.log" 2>&1 &
mpid=$!
pids+=("$mpid")
wait_http "$murl/moto-api/" "$mpid"
echo "moto: RSS after start (VmHWM) $(hwm "$mpid")"
echo "moto: warm-up: $("$work/authload" -endpoint "$murl" -key "$KEY" -secret "$SECRET" -c 4 -d 1s)"
"$work/authload" -endpoint "$murl" -key "$KEY" -secret "$SECRET" -wrk-script "$work/moto.lua"
wrk_runs moto "$murl/" "$work/moto.lua"
moto_rate=$(awk -v r="$(median <"$work/moto.rps")" -v max="$RATE" 'BEGIN {x = int(r / 2); if (x > max) x = max; if (x < 1) x = 1; print x}')
echo "moto: open loop: $("$work/authload" -endpoint "$murl" -key "$KEY" -secret "$SECRET" -rate "$moto_rate" -d "$DUR")"
echo "moto: peak RSS (VmHWM) $(hwm "$mpid")"
kill "$mpid"

echo
echo "opentrail at moto's open-loop rate:"
ot_open "$moto_rate"
echo
echo "== 3. opentrail peak RSS (VmHWM) $(hwm "$spid")"
kill -TERM "$spid"
wait "$spid" || true
records=$("$work/capture" -count "$work/data/journal" | awk '{print $NF}')
echo "opentrail: the journal holds $records records; the load generators saw $answered calls answered"
if [ "$records" -lt "$answered" ]; then echo "run.sh: FEWER RECORDS THAN ANSWERED CALLS" >&2; exit 1; fi
echo "opentrail: server log lines at warn or above: $(grep -c . "$work/server.log" || true)"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
