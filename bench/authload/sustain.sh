#!/usr/bin/env bash
# Sustained authenticated calls: wrk (2 threads, 64 connections) against a fresh
# `opentrail serve` in ROUNDS consecutive runs of D each, printing the rate of each run and the
# size of Event History's store after it, to show whether throughput holds as the store grows.
#   bash bench/authload/sustain.sh [duration per run, default 15s] [rounds, default 6]
set -euo pipefail
cd "$(dirname "$0")/../.."
D=${1:-15s} ROUNDS=${2:-6}
W=$(mktemp -d /var/tmp/sustain.XXXXXX); trap 'kill $(jobs -p) 2>/dev/null; wait 2>/dev/null; rm -rf "$W"' EXIT
go build -o "$W/opentrail" ./cmd/opentrail
go build -o "$W/authload" ./bench/authload
KEY=AKIAOPENTRAILROOT001 SECRET=opentrail-test-root-secret-0123456789abcd
P=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
"$W/opentrail" serve --data-dir "$W/data" --listen 127.0.0.1:$P --account-id 123456789012 \
  --root-access-key-id $KEY --root-secret-access-key $SECRET --log-level warn >"$W/ot.log" 2>&1 &
until curl -fs http://127.0.0.1:$P/health >/dev/null; do sleep 0.1; done
"$W/authload" -endpoint http://127.0.0.1:$P -key $KEY -secret $SECRET -wrk-script "$W/gci.lua"
echo "== machine: $(nproc) cores; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for i in $(seq 1 "$ROUNDS"); do
  R=$(wrk -t2 -c64 -d"$D" -s "$W/gci.lua" http://127.0.0.1:$P/ | awk '/Requests\/sec/{printf "%d", $2}')
  echo "run $i: $R req/s; Event History store $(du -sm "$W/data/history" | cut -f1) MB"
done
