#!/usr/bin/env bash
# validate-logs throughput: `opentrail validate-logs` against `aws cloudtrail validate-logs`
# (the AWS CLI) on the same delivered files (issue #5).
#
# Starts versitygw (S3, posix backend) and `opentrail serve` delivering to it, creates a bucket
# and a validating trail, drives authenticated STS GetCallerIdentity calls through wrk (every
# call is a management event the trail delivers), stops the load and the trail, waits until
# every log file and digest (the final one included) is delivered, then times both validators
# on the same files, checks that both find every digest and log file valid, and prints the
# uncompressed MB/s of each and the ratio. `opentrail validate-logs` runs twice: through S3
# (--s3-endpoint, as the CLI reads the files) and from a local copy of the bucket in the layout
# of `opentrail serve --data-dir` (--data-dir, no S3 server in the way), and once more through
# S3 with only the CLI's checks (--strict=false --out-of-chain=false).
#
#   bash bench/validate/run.sh
#
# Settings (environment): TARGET_MB of uncompressed log data to deliver (250; the load runs
# in 15 s rounds until that much is delivered, 20 rounds at most), CONNS wrk connections (64), DIGEST_INTERVAL
# (10s), MAX_LOG_FILE_BYTES (server default, 32 MiB), REPS timed runs of each validator (3),
# WORKERS for opentrail validate-logs (its default), BENCH_DIR for the temporary directory
# (/var/tmp), MAX_LOAD (1.5): before timing, wait up to 15 minutes for the 1-minute load
# average to drop below it (the machine may be shared), KEEP=1 to keep the directory, HOLD=1 to keep the servers running afterwards (until
# interrupted) and write the commands to $W/env for more runs by hand.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
TARGET_MB=${TARGET_MB:-250}
CONNS=${CONNS:-64}
DIGEST_INTERVAL=${DIGEST_INTERVAL:-10}
MAX_LOG_FILE_BYTES=${MAX_LOG_FILE_BYTES:-}
REPS=${REPS:-3}
WORKERS=${WORKERS:-}
MAX_LOAD=${MAX_LOAD:-1.5}
BENCH_DIR=${BENCH_DIR:-/var/tmp}
VGW=${OPENTRAIL_VERSITYGW:-$REPO/.tools/bin/versitygw}
ACCOUNT=123456789012
BUCKET=validate-bench
TRAIL=validated
KEY=OTBENCHVALIDATE00001
SECRET=opentrail-validate-bench-secret-0123456789

W=$(mktemp -d "$BENCH_DIR/bench-validate-XXXXXX")
PIDS=()
cleanup() {
  local p
  for p in "${PIDS[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]}"; do wait "$p" 2>/dev/null || true; done
  if [ "${KEEP:-0}" = 1 ]; then echo "kept $W"; else rm -rf "$W"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
die() { echo "bench/validate: $*" >&2; exit 1; }
# wait_for DESCRIPTION SECONDS COMMAND...: run COMMAND every 0.2 s until it succeeds.
wait_for() {
  local what=$1 secs=$2; shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    [ $SECONDS -lt $end ] || die "timed out after ${secs}s waiting for $what"
    sleep 0.2
  done
}
port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
command -v aws >/dev/null || die "the aws CLI is needed"
command -v wrk >/dev/null || die "wrk is needed"
[ -x "$VGW" ] || die "no versitygw at $VGW: run scripts/setup"

echo "== build"
go build -o "$W/opentrail" ./cmd/opentrail
go build -o "$W/authload" ./bench/authload
go build -o "$W/copybucket" ./bench/validate

echo "== versitygw and opentrail serve"
mkdir -p "$W/s3" "$W/data"
GWPORT=$(port)
GW=http://127.0.0.1:$GWPORT
env -u AWS_ACCESS_KEY_ID -u AWS_SECRET_ACCESS_KEY ROOT_ACCESS_KEY=$KEY ROOT_SECRET_KEY=$SECRET \
  "$VGW" --port 127.0.0.1:$GWPORT --quiet --keep-alive posix "$W/s3" >"$W/versitygw.log" 2>&1 &
GWPID=$!
PIDS+=($GWPID)
wait_for versitygw 30 curl -s -o /dev/null "$GW/"
OTPORT=$(port)
OT=http://127.0.0.1:$OTPORT
EXTRA=()
[ -n "$MAX_LOG_FILE_BYTES" ] && EXTRA+=(--max-log-file-bytes "$MAX_LOG_FILE_BYTES")
OPENTRAIL_S3_SECRET_ACCESS_KEY=$SECRET "$W/opentrail" serve --data-dir "$W/data" --listen 127.0.0.1:$OTPORT \
  --account-id $ACCOUNT --root-access-key-id $KEY --root-secret-access-key $SECRET --log-level warn \
  --regions us-east-1 --delivery-interval 1s --digest-interval "${DIGEST_INTERVAL}s" "${EXTRA[@]}" \
  --s3-endpoint "$GW" --s3-access-key-id $KEY --s3-region us-east-1 >"$W/opentrail.log" 2>&1 &
PIDS+=($!)
wait_for "opentrail serve" 30 curl -fs "$OT/health"

# The same credentials for OpenTrail and versitygw, as the AWS CLI uses one set for both.
export AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=$SECRET AWS_DEFAULT_REGION=us-east-1 \
  AWS_ENDPOINT_URL_S3=$GW AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER=
unset AWS_PROFILE AWS_ENDPOINT_URL AWS_SESSION_TOKEN OPENTRAIL_ENDPOINT
START=$(date -u -d '-1 min' +%Y-%m-%dT%H:%M:%SZ)
aws s3api create-bucket --bucket $BUCKET >/dev/null
ARN=$(aws cloudtrail create-trail --endpoint-url "$OT" --name $TRAIL --s3-bucket-name $BUCKET \
  --enable-log-file-validation --query TrailARN --output text)
aws cloudtrail start-logging --endpoint-url "$OT" --name $TRAIL

LOGDIR=$W/s3/$BUCKET/AWSLogs/$ACCOUNT/CloudTrail
DIGDIR=$W/s3/$BUCKET/AWSLogs/$ACCOUNT/CloudTrail-Digest
count() { echo "$(find "$LOGDIR" -name '*.json.gz' 2>/dev/null | wc -l)/$(find "$DIGDIR" -name '*.json.gz' 2>/dev/null | wc -l)"; }
# Let the backlog drain before stopping the trail: delivered files stop appearing.
stable() { # stable SECONDS DEADLINE: the file counts stay the same for SECONDS
  local secs=$1 end=$((SECONDS + $2)) last="" since=$SECONDS c
  while :; do
    c=$(count)
    if [ "$c" != "$last" ]; then last=$c; since=$SECONDS; fi
    [ $((SECONDS - since)) -ge "$secs" ] && return 0
    [ $SECONDS -lt $end ] || die "files still being delivered after $2 s (log files/digests: $c)"
    sleep 1
  done
}
# delivered: uncompressed bytes of the log files delivered so far (files being written may
# be cut: an estimate).
delivered() { find "$LOGDIR" -name '*.json.gz' -print0 2>/dev/null | xargs -0 -r cat | { gzip -dc 2>/dev/null || true; } | wc -c; }
echo "== load: wrk, $CONNS connections, signed STS GetCallerIdentity calls in 15 s rounds until $TARGET_MB MB are delivered"
"$W/authload" -endpoint "$OT" -key $KEY -secret $SECRET -wrk-script "$W/gci.lua"
for round in $(seq 20); do
  timeout --kill-after=10 75 wrk -t2 -c"$CONNS" -d15s -s "$W/gci.lua" "$OT/" | grep -E 'requests in|Non-2xx' || true
  stable 3 600 # the delivery backlog drained
  D=$(delivered)
  echo "   round $round: $((D / 1000000)) MB delivered"
  [ "$D" -lt $((TARGET_MB * 1000000)) ] || break
done

echo "== waiting for delivery and the final digest"
stable 5 600
aws cloudtrail stop-logging --endpoint-url "$OT" --name $TRAIL
# The StopLogging call's own log file, then the chain's final digest.
stable $((2 * DIGEST_INTERVAL + 5)) 600
aws cloudtrail get-trail-status --endpoint-url "$OT" --name $TRAIL \
  --query '{IsLogging: IsLogging, LatestDeliveryError: LatestDeliveryError, LatestDigestDeliveryError: LatestDigestDeliveryError}' --output text
END=$(date -u +%Y-%m-%dT%H:%M:%SZ)

NLOGS=$(find "$LOGDIR" -name '*.json.gz' | wc -l)
NDIGESTS=$(find "$DIGDIR" -name '*.json.gz' | wc -l)
GZBYTES=$(find "$LOGDIR" -name '*.json.gz' -printf '%s\n' | awk '{s += $1} END {print s}')
RAWBYTES=$(find "$LOGDIR" -name '*.json.gz' -print0 | xargs -0 cat | gzip -dc | wc -c)
DIGRAW=$(find "$DIGDIR" -name '*.json.gz' -print0 | xargs -0 cat | gzip -dc | wc -c)
MB=$(awk -v b="$RAWBYTES" 'BEGIN {printf "%.1f", b / 1e6}')
echo "data: $NDIGESTS digests ($DIGRAW bytes uncompressed), $NLOGS log files, $RAWBYTES bytes uncompressed ($MB MB), $GZBYTES bytes gzipped"
[ "$NLOGS" -gt 0 ] && [ "$NDIGESTS" -gt 0 ] || die "nothing was delivered"

"$W/copybucket" -s3-endpoint "$GW" -key $KEY -secret $SECRET -bucket $BUCKET -dir "$W/local"

AWSCMD=(aws cloudtrail validate-logs --endpoint-url "$OT" --trail-arn "$ARN" --start-time "$START" --end-time "$END" --verbose)
OTCMD=("$W/opentrail" validate-logs --endpoint-url "$OT" --trail-arn "$ARN" --start-time "$START" --end-time "$END" --verbose --s3-endpoint "$GW")
DIRCMD=("$W/opentrail" validate-logs --endpoint-url "$OT" --trail-arn "$ARN" --start-time "$START" --end-time "$END" --verbose --data-dir "$W/local")
[ -n "$WORKERS" ] && OTCMD+=(--workers "$WORKERS") && DIRCMD+=(--workers "$WORKERS")
CLICMD=("${OTCMD[@]}" --strict=false --out-of-chain=false)
echo "aws command:       ${AWSCMD[*]}"
echo "opentrail command: ${OTCMD[*]}"
echo "opentrail command: ${DIRCMD[*]}"

# check NAME OUT ERR: exit 0 and every digest and log file valid; prints "digests logs".
check() {
  local s
  s=$(grep -E 'digest files valid|log files valid' "$2" | tr '\n' ' ')
  [[ $s =~ ([0-9]+)/([0-9]+)\ digest\ files\ valid\ +([0-9]+)/([0-9]+)\ log\ files\ valid ]] || die "$1: no summary: $(cat "$2" "$3")"
  [ "${BASH_REMATCH[1]}" = "${BASH_REMATCH[2]}" ] && [ "${BASH_REMATCH[3]}" = "${BASH_REMATCH[4]}" ] || die "$1: not all valid: $s"
  grep -q INVALID "$3" && die "$1: INVALID files: $(grep INVALID "$3" | head)"
  echo "${BASH_REMATCH[2]} ${BASH_REMATCH[4]}"
}
# gwcpu: CPU time versitygw has used so far, in clock ticks.
gwcpu() { awk '{print $14 + $15}' "/proc/$GWPID/stat"; }
TICK=$(getconf CLK_TCK)
# timed NAME CMD...: run CMD under /usr/bin/time, check it, print the wall time, the CPU time
# (user + system) and versitygw's CPU time during the run, in seconds.
timed() {
  local name=$1 rc=0 g0 g1; shift
  g0=$(gwcpu)
  /usr/bin/time -f '%e %U %S %M' -o "$W/time" timeout --kill-after=10 1800 "$@" >"$W/out" 2>"$W/err" || rc=$?
  g1=$(gwcpu)
  [ $rc = 0 ] || die "$name exited $rc: $(tail -5 "$W/err")"
  read -r wall user sys rss <"$W/time"
  local gw; gw=$(awk -v t="$TICK" -v a="$g0" -v b="$g1" 'BEGIN {printf "%.2f", (b - a) / t}')
  local c; c=$(check "$name" "$W/out" "$W/err")
  [ "$c" = "$NDIGESTS $NLOGS" ] || die "$name validated $c (digests logs), the bucket has $NDIGESTS $NLOGS"
  cat "$W/out" "$W/err" >"$W/$name.report"
  printf '%-9s wall %7.2f s  user %7.2f s  sys %6.2f s  maxrss %6d KB  versitygw CPU %6.2f s  %8.1f MB/s  (%s digests, %s log files valid)\n' \
    "$name" "$wall" "$user" "$sys" "$rss" "$gw" "$(awk -v b="$RAWBYTES" -v t="$wall" 'BEGIN {printf "%.1f", b / 1e6 / t}')" ${c% *} ${c#* } >&2
  echo "$wall $(awk -v u="$user" -v s="$sys" 'BEGIN {print u + s}') $gw"
}
# median N: the median of column N.
median() { awk -v c="$1" '{print $c}' | sort -g | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }

# quiet: wait (at most 15 minutes in all) until the 1-minute load average is below MAX_LOAD.
QUIET_END=$((SECONDS + 900))
quiet() {
  until awk -v m="$MAX_LOAD" '{exit !($1 < m)}' /proc/loadavg; do
    [ $SECONDS -lt $QUIET_END ] || { echo "(the load average stayed at or above $MAX_LOAD: timing anyway)"; return 0; }
    sleep 5
  done
}
quiet
echo "== validate (load average: $(cut -d' ' -f1-3 /proc/loadavg)); a warm-up run of each first"
timed aws "${AWSCMD[@]}" >/dev/null
timed ot-s3 "${OTCMD[@]}" >/dev/null
timed ot-s3-cli "${CLICMD[@]}" >/dev/null
timed ot-dir "${DIRCMD[@]}" >/dev/null
for v in ot-s3 ot-s3-cli ot-dir; do
  if cmp -s "$W/aws.report" "$W/$v.report"; then
    echo "$v: output identical to the AWS CLI's ($(wc -l <"$W/aws.report") lines)"
  else
    echo "$v: WARNING: output differs from the AWS CLI's:"; diff "$W/aws.report" "$W/$v.report" | head -10
  fi
done
: >"$W/aws.t"; : >"$W/ot.t"; : >"$W/cli.t"; : >"$W/dir.t"
for i in $(seq "$REPS"); do
  quiet
  echo "-- run $i (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
  timed aws "${AWSCMD[@]}" >>"$W/aws.t"
  timed ot-s3 "${OTCMD[@]}" >>"$W/ot.t"
  timed ot-s3-cli "${CLICMD[@]}" >>"$W/cli.t"
  timed ot-dir "${DIRCMD[@]}" >>"$W/dir.t"
done
echo "== result: $NDIGESTS digests, $NLOGS log files, $MB MB uncompressed, medians of $REPS runs"
for v in "aws cloudtrail validate-logs:aws" "opentrail validate-logs --s3-endpoint:ot" \
  "  the same, only the CLI's checks:cli" "opentrail validate-logs --data-dir:dir"; do
  echo "${v%%:*} $(median 1 <"$W/${v##*:}.t") $(median 2 <"$W/${v##*:}.t") $(median 3 <"$W/${v##*:}.t")"
done | awk -v b="$RAWBYTES" 'BEGIN { printf "%-38s %8s %8s %7s %8s %7s %9s\n", "", "wall", "MB/s", "ratio", "CPU", "ratio", "S3 CPU" } {
  name = $0; sub(/ [^ ]+ [^ ]+ [^ ]+$/, "", name); wall = $(NF - 2); cpu = $(NF - 1); gw = $NF
  if (NR == 1) { aw = wall; ac = cpu }
  printf "%-38s %6.2f s %8.1f %6.1fx %6.2f s %6.1fx %7.2f s\n", name, wall, b / 1e6 / wall, aw / wall, cpu, ac / cpu, gw }'
if [ "${HOLD:-0}" = 1 ]; then
  { declare -p AWSCMD OTCMD CLICMD DIRCMD; echo "export AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=$SECRET AWS_DEFAULT_REGION=us-east-1 AWS_ENDPOINT_URL_S3=$GW AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER="; echo "RAWBYTES=$RAWBYTES"; } >"$W/env"
  echo "holding; the commands are in $W/env; interrupt to stop"
  sleep infinity &
  PIDS+=($!)
  wait $!
fi
