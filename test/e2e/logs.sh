#!/usr/bin/env bash
# CloudWatch Logs through the aws CLI: log groups and streams, put-log-events (with a too-old
# event rejected, out-of-order batches refused), get-log-events from the head with the CLI's
# tokens, filter-log-events with a JSON pattern (paged by the CLI), put/describe metric filters,
# test-metric-filter (space-delimited extraction), retention policies (valid and invalid
# values), tags, the error codes of missing groups and streams and of bad patterns, an
# unsupported operation, and a restart that keeps everything.
source "$(dirname "$0")/lib.sh"
deadline 100
trap 'kill "${DEADLINE_PID:-}" 2>/dev/null || true; cleanup' EXIT
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND exited with status $?" >&2' ERR
if command -v pyenv >/dev/null 2>&1 && real_aws=$(pyenv which aws 2>/dev/null); then
  PATH="$(dirname "$real_aws"):$PATH"
fi

start_server

logs() { root logs "$@"; }
G=/opentrail/cli
S=web-1
ARN="arn:aws:logs:us-east-1:$ACCOUNT:log-group:$G"
now_ms() { python3 -c 'import time; print(int(time.time()*1000))'; }

# --- Groups and streams ------------------------------------------------------------------------
logs create-log-group --log-group-name "$G" --tags team=sec
expect_error ResourceAlreadyExistsException logs create-log-group --log-group-name "$G"
expect_error InvalidParameterException logs create-log-group --log-group-name 'bad name!'
logs create-log-stream --log-group-name "$G" --log-stream-name "$S"
expect_error ResourceAlreadyExistsException logs create-log-stream --log-group-name "$G" --log-stream-name "$S"
expect_error ResourceNotFoundException logs create-log-stream --log-group-name /missing --log-stream-name "$S"
out=$(logs describe-log-groups --log-group-name-prefix /opentrail/)
jeq "$out" '.logGroups | length' 1 "describe-log-groups count"
jeq "$out" '.logGroups[0].arn' "$ARN:*" "arn"
jeq "$out" '.logGroups[0].logGroupArn' "$ARN" "logGroupArn"
pass "groups and streams"

# --- Metric filter (before the events, which it then sees) -------------------------------------
logs put-metric-filter --log-group-name "$G" --filter-name server-errors \
  --filter-pattern '{ $.status >= 500 }' \
  --metric-transformations 'metricName=ServerErrors,metricNamespace=CLI,metricValue=1,unit=Count'
expect_error InvalidParameterException logs put-metric-filter --log-group-name "$G" --filter-name bad \
  --filter-pattern '{ $.status >= 500' --metric-transformations 'metricName=M,metricNamespace=CLI,metricValue=1'
expect_error InvalidParameterException logs put-metric-filter --log-group-name "$G" --filter-name dims \
  --filter-pattern 'ERROR' --metric-transformations 'metricName=M,metricNamespace=CLI,metricValue=1,dimensions={Path=$.path}'
out=$(logs describe-metric-filters --log-group-name "$G")
jeq "$out" '.metricFilters | length' 1 "describe-metric-filters"
jeq "$out" '.metricFilters[0].metricTransformations[0].unit' Count "metric filter unit"
pass "metric filters"

# --- put-log-events ----------------------------------------------------------------------------
NOW=$(now_ms)
OLD=$((NOW - 15 * 24 * 3600 * 1000))
python3 - "$NOW" "$OLD" >"$WORK/events.json" <<'PY'
import json, sys
now, old = int(sys.argv[1]), int(sys.argv[2])
evs = [{"timestamp": old, "message": "ancient"}]
for i in range(6):
    status = 503 if i % 3 == 2 else 200
    evs.append({"timestamp": now - (6 - i) * 1000, "message": json.dumps({"status": status, "path": "/p%d" % i}, separators=(",", ":"))})
print(json.dumps(evs))
PY
out=$(logs put-log-events --log-group-name "$G" --log-stream-name "$S" --log-events "file://$WORK/events.json")
jeq "$out" '.rejectedLogEventsInfo.tooOldLogEventEndIndex' 1 "too old event rejected"
expect_error InvalidParameterException logs put-log-events --log-group-name "$G" --log-stream-name "$S" \
  --log-events "timestamp=$NOW,message=b" "timestamp=$((NOW - 1)),message=a"
expect_error ResourceNotFoundException logs put-log-events --log-group-name "$G" --log-stream-name missing \
  --log-events "timestamp=$NOW,message=x"
# A sequence token is accepted and ignored.
logs put-log-events --log-group-name "$G" --log-stream-name "$S" --sequence-token 12345 \
  --log-events "timestamp=$NOW,message=plain ERROR line" >/dev/null
pass "put-log-events"

# --- get-log-events ----------------------------------------------------------------------------
out=$(logs get-log-events --log-group-name "$G" --log-stream-name "$S" --start-from-head --limit 4)
jeq "$out" '.events | length' 4 "first page"
jeq "$out" '.events[0].message' '{"status":200,"path":"/p0"}' "first event"
[[ $(jq -r .nextForwardToken <<<"$out") =~ ^f/[0-9]{56}/s$ ]] || fail "forward token shape: $(jq -r .nextForwardToken <<<"$out")"
[[ $(jq -r .nextBackwardToken <<<"$out") =~ ^b/[0-9]{56}/s$ ]] || fail "backward token shape"
tok=$(jq -r .nextForwardToken <<<"$out")
out=$(logs get-log-events --log-group-name "$G" --log-stream-name "$S" --start-from-head --next-token "$tok")
jeq "$out" '[.events[].message] | join("|")' '{"status":200,"path":"/p4"}|{"status":503,"path":"/p5"}|plain ERROR line' "second page"
end=$(jq -r .nextForwardToken <<<"$out")
out=$(logs get-log-events --log-group-name "$G" --log-stream-name "$S" --start-from-head --next-token "$end")
jeq "$out" '.events | length' 0 "end of stream"
jeq "$out" '.nextForwardToken' "$end" "same token at the end"
out=$(logs get-log-events --log-group-name "$G" --log-stream-name "$S" --limit 1)
jeq "$out" '.events[0].message' 'plain ERROR line' "latest event without --start-from-head"
expect_error InvalidParameterException logs get-log-events --log-group-name "$G" --log-stream-name "$S" \
  --next-token "f/00000000000000000000000000000000000000000000000000000000/s"
expect_error ResourceNotFoundException logs get-log-events --log-group-name "$G" --log-stream-name missing
pass "get-log-events"

# --- filter-log-events (the CLI pages through every nextToken) ---------------------------------
out=$(logs filter-log-events --log-group-name "$G" --filter-pattern '{ $.status = 503 }' --page-size 1)
jeq "$out" '[.events[].message] | join("|")' '{"status":503,"path":"/p2"}|{"status":503,"path":"/p5"}' "JSON pattern"
jeq "$out" '.searchedLogStreams | length' 0 "searchedLogStreams"
out=$(logs filter-log-events --log-group-name "$G" --filter-pattern ERROR --log-stream-names "$S")
jeq "$out" '.events | length' 1 "term pattern"
jeq "$out" '.events[0].logStreamName' "$S" "logStreamName"
[[ $(jq -r '.events[0].eventId' <<<"$out") =~ ^[0-9]{56}$ ]] || fail "eventId shape"
out=$(logs filter-log-events --log-group-name "$G" --start-time $((NOW - 4000)) --end-time $((NOW - 3000)))
jeq "$out" '.events | length' 2 "time range (both ends inclusive)"
expect_error InvalidParameterException logs filter-log-events --log-group-name "$G" --filter-pattern '{ $.status = '
expect_error InvalidParameterException logs filter-log-events --log-group-name "$G" --log-stream-names a --log-stream-name-prefix a
pass "filter-log-events"

# --- test-metric-filter ------------------------------------------------------------------------
out=$(logs test-metric-filter --filter-pattern '[ip, user, status=5*, bytes]' \
  --log-event-messages '10.0.0.1 bob 200 12' '10.0.0.2 eve 503 99')
jeq "$out" '.matches | length' 1 "test-metric-filter matches"
jeq "$out" '.matches[0].eventNumber' 2 "eventNumber"
jeq "$out" '.matches[0].extractedValues["$status"] + "/" + .matches[0].extractedValues["$bytes"]' 503/99 "extractedValues"
out=$(logs test-metric-filter --filter-pattern '{ $.status >= 500 }' --log-event-messages '{"status":503}' '{"status":200}')
jeq "$out" '.matches | length' 1 "JSON test-metric-filter"
jeq "$out" '.matches[0].extractedValues | length' 0 "JSON extractedValues empty"
expect_error InvalidParameterException logs test-metric-filter --filter-pattern '{ $.a = ' --log-event-messages x
pass "test-metric-filter"

# --- Retention and tags ------------------------------------------------------------------------
logs put-retention-policy --log-group-name "$G" --retention-in-days 7
expect_error InvalidParameterException logs put-retention-policy --log-group-name "$G" --retention-in-days 8
expect_error ResourceNotFoundException logs put-retention-policy --log-group-name /missing --retention-in-days 7
jeq "$(logs describe-log-groups --log-group-name-prefix "$G")" '.logGroups[0].retentionInDays' 7 "retentionInDays"
logs tag-resource --resource-arn "$ARN" --tags env=prod
jeq "$(logs list-tags-for-resource --resource-arn "$ARN")" '.tags | to_entries | map("\(.key)=\(.value)") | sort | join(",")' "env=prod,team=sec" "tags"
logs untag-resource --resource-arn "$ARN" --tag-keys env
jeq "$(logs list-tags-for-resource --resource-arn "$ARN")" '.tags | keys | join(",")' team "untag"
expect_error UnsupportedOperationException logs describe-subscription-filters --log-group-name "$G"
pass "retention, tags, unsupported operations"

# --- Restart -----------------------------------------------------------------------------------
stop_server
start_server
out=$(logs describe-log-groups --log-group-name-prefix "$G")
jeq "$out" '.logGroups[0].retentionInDays' 7 "retention after restart"
jeq "$out" '.logGroups[0].metricFilterCount' 1 "metric filter after restart"
out=$(logs get-log-events --log-group-name "$G" --log-stream-name "$S" --start-from-head)
jeq "$out" '.events | length' 7 "events after restart"
logs put-log-events --log-group-name "$G" --log-stream-name "$S" --log-events "timestamp=$(now_ms),message=after restart" >/dev/null
out=$(logs get-log-events --log-group-name "$G" --log-stream-name "$S" --start-from-head --next-token "$end")
jeq "$out" '.events[0].message' 'after restart' "a token from before the restart"
pass "restart"

logs delete-log-group --log-group-name "$G"
expect_error ResourceNotFoundException logs delete-log-group --log-group-name "$G"
pass "delete-log-group"
echo "logs.sh: all passed"
