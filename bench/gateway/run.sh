#!/usr/bin/env bash
# Benchmarks the S3 audit gateway (pass-through) against versitygw directly: starts versitygw
# and `opentrail serve --gateway-listen` on free loopback ports with data under $BENCH_DIR, runs
# bench/gateway, stops both. DUR (default 10s) is the length of each throughput run.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
BENCH_DIR=${BENCH_DIR:-/var/tmp}
DUR=${DUR:-10s}
W=$(mktemp -d "$BENCH_DIR/gwbench.XXXXXX")
VGW_PID="" OT_PID=""
cleanup() {
  [ -n "$OT_PID" ] && kill "$OT_PID" 2>/dev/null && wait "$OT_PID" 2>/dev/null || true
  [ -n "$VGW_PID" ] && kill "$VGW_PID" 2>/dev/null && wait "$VGW_PID" 2>/dev/null || true
  rm -rf "$W"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

(cd "$ROOT" && go build -o "$W/opentrail" ./cmd/opentrail && go build -o "$W/bench" ./bench/gateway)
VGW_BIN=${OPENTRAIL_VERSITYGW:-$ROOT/.tools/bin/versitygw}
KEY=OTS3GATEWAYBENCH0001
SECRET=gateway-bench-backend-secret-0123456789
VP=$(free_port) GP=$(free_port) AP=$(free_port)
mkdir -p "$W/vgw/bench"
ROOT_ACCESS_KEY=$KEY ROOT_SECRET_KEY=$SECRET "$VGW_BIN" --port "127.0.0.1:$VP" --quiet --keep-alive posix "$W/vgw" >"$W/vgw.log" 2>&1 &
VGW_PID=$!
"$W/opentrail" serve --data-dir "$W/data" --listen "127.0.0.1:$AP" --account-id 123456789012 \
  --root-access-key-id "$KEY" --root-secret-access-key "$SECRET" --log-level warn \
  --gateway-listen "127.0.0.1:$GP" --gateway-backend "http://127.0.0.1:$VP" >"$W/ot.log" 2>&1 &
OT_PID=$!
for _ in $(seq 1 200); do
  curl -fsS "http://127.0.0.1:$AP/health" >/dev/null 2>&1 && curl -s -o /dev/null "http://127.0.0.1:$VP/" && break
  sleep 0.05
done
"$W/bench" -direct "http://127.0.0.1:$VP" -gateway "http://127.0.0.1:$GP" -key "$KEY" -secret "$SECRET" \
  -bucket bench -dur "$DUR" -pid "$OT_PID"
echo "journal: $(du -sh "$W/data/journal" | cut -f1)"
