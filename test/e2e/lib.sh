# Shared helpers for the AWS CLI end-to-end scripts. Source it; it starts nothing by itself.
# Each script runs a real `opentrail serve` ($OPENTRAIL_BIN, or one built here) on a free
# loopback port with a temporary data dir and drives it with the `aws` CLI.
set -euo pipefail

ROOT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
WORK=$(mktemp -d)
ACCOUNT=123456789012
ROOT_AKID=AKIAOPENTRAILROOT001
ROOT_SECRET=opentrail-test-root-secret-0123456789abcd
export AWS_DEFAULT_REGION=us-east-1 AWS_PAGER="" AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_MAX_ATTEMPTS=1 AWS_RETRY_MODE=standard
SERVER_PID=""

if [ -z "${OPENTRAIL_BIN:-}" ]; then
  (cd "$ROOT_DIR" && go build -o "$WORK/opentrail" ./cmd/opentrail)
  OPENTRAIL_BIN="$WORK/opentrail"
fi

cleanup() {
  [ -n "$SERVER_PID" ] && kill "$SERVER_PID" 2>/dev/null && wait "$SERVER_PID" 2>/dev/null || true
  rm -rf "$WORK"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

PORT=$(free_port)
EP="http://127.0.0.1:$PORT"
DATA="$WORK/data"

start_server() {
  "$OPENTRAIL_BIN" serve --data-dir "$DATA" --listen "127.0.0.1:$PORT" --account-id "$ACCOUNT" \
    --root-access-key-id "$ROOT_AKID" --root-secret-access-key "$ROOT_SECRET" --log-level warn "$@" \
    >>"$WORK/server.log" 2>&1 &
  SERVER_PID=$!
  for _ in $(seq 1 300); do
    curl -fsS "$EP/health" >/dev/null 2>&1 && return 0
    kill -0 "$SERVER_PID" 2>/dev/null || { cat "$WORK/server.log"; fail "server exited during start"; }
    sleep 0.05
  done
  fail "server did not become healthy"
}

stop_server() {
  kill -TERM "$SERVER_PID"; wait "$SERVER_PID" 2>/dev/null || true; SERVER_PID=""
}

fail() { echo "FAIL: $*" >&2; [ -f "$WORK/server.log" ] && tail -20 "$WORK/server.log" >&2; exit 1; }
pass() { echo "ok: $*"; }

# as KEY SECRET [TOKEN] -- aws args...: run the aws CLI with those credentials.
as() {
  local akid=$1 secret=$2 token=""; shift 2
  if [ "${1:-}" != "--" ]; then token=$1; shift; fi
  shift # --
  AWS_ACCESS_KEY_ID=$akid AWS_SECRET_ACCESS_KEY=$secret AWS_SESSION_TOKEN=$token aws --endpoint-url "$EP" "$@"
}
root() { as "$ROOT_AKID" "$ROOT_SECRET" -- "$@"; }

# expect_error CODE cmd...: the command must fail and print CODE in its error.
expect_error() {
  local code=$1; shift
  local out
  if out=$("$@" 2>&1); then fail "expected $code, command succeeded: $* -> $out"; fi
  echo "$out" | grep -q "($code)" || fail "expected error $code from: $*; got: $out"
}

# eq GOT WANT WHAT
eq() { [ "$1" == "$2" ] || fail "$3: got '$1', want '$2'"; }

# deadline SECONDS: end the script (failing, with its EXIT trap run) if it still runs after
# SECONDS, so that a hung server or CLI call cannot hold a test run forever.
deadline() {
  local main=$$ secs=$1
  (
    trap 'kill "$sp" 2>/dev/null; exit 0' TERM
    sleep "$secs" & sp=$!
    wait "$sp"
    echo "FAIL: $(basename "$0") still running after ${secs}s; stopping it" >&2
    kill -TERM "$main"
  ) &
  DEADLINE_PID=$!
}

# jeq JSON FILTER WANT WHAT: the jq filter (raw output) applied to JSON must print WANT.
jeq() { eq "$(jq -r "$2" <<<"$1")" "$3" "$4"; }
