#!/usr/bin/env bash
# CloudWatch metrics and alarms through the aws CLI, in all three protocols of the model: the
# CLI's own choice (JSON 1.0 with x-amzn-query-mode), and Query and rpc-v2-cbor by pointing
# AWS_DATA_PATH at copies of botocore's model that list only that protocol. put-metric-data,
# get-metric-statistics (with percentiles), list-metrics, get-metric-data, put-metric-alarm on
# a high-resolution metric that goes to ALARM as soon as a breaching datum arrives for an ended
# period, describe-alarms, set-alarm-state, describe-alarm-history, enable/disable actions,
# delete-alarms, the error codes of each protocol, and a restart.
source "$(dirname "$0")/lib.sh"
deadline 240
trap 'kill "${DEADLINE_PID:-}" 2>/dev/null || true; cleanup' EXIT
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND exited with status $?" >&2' ERR
if command -v pyenv >/dev/null 2>&1 && real_aws=$(pyenv which aws 2>/dev/null); then
  PATH="$(dirname "$real_aws"):$PATH"
fi

# Models that speak only Query, or only rpc-v2-cbor.
python3 - "$WORK" <<'PY'
import gzip, json, os, sys, botocore
src = os.path.join(os.path.dirname(botocore.__file__), 'data', 'cloudwatch', '2010-08-01', 'service-2.json.gz')
model = json.load(gzip.open(src))
for proto, name in (('query', 'query'), ('smithy-rpc-v2-cbor', 'cbor')):
    m = json.loads(json.dumps(model))
    m['metadata']['protocol'] = proto
    m['metadata']['protocols'] = [proto]
    d = os.path.join(sys.argv[1], 'models-' + name, 'cloudwatch', '2010-08-01')
    os.makedirs(d)
    json.dump(m, open(os.path.join(d, 'service-2.json'), 'w'))
PY

start_server

cw() { root cloudwatch "$@"; }
cwq() { AWS_DATA_PATH="$WORK/models-query" root cloudwatch "$@"; }
cwc() { AWS_DATA_PATH="$WORK/models-cbor" root cloudwatch "$@"; }

# The protocols really differ on the wire.
root --debug cloudwatch list-metrics 2>&1 | grep -q "'X-Amz-Target': 'GraniteServiceVersion20100801.ListMetrics'" || fail "CLI default is not JSON"
AWS_DATA_PATH="$WORK/models-query" root --debug cloudwatch list-metrics 2>&1 | grep -q "'Action': 'ListMetrics'" || fail "query model does not send Query"
AWS_DATA_PATH="$WORK/models-cbor" root --debug cloudwatch list-metrics 2>&1 | grep -q "/service/GraniteServiceVersion20100801/operation/ListMetrics" || fail "cbor model does not send rpc-v2-cbor"
pass "three protocols on the wire"

minute=$(date -u -d '-3 min' +%Y-%m-%dT%H:%M:00Z)
at() { date -u -d "$minute $1" +%Y-%m-%dT%H:%M:%SZ; }
cw put-metric-data --namespace Shop --metric-name Latency --dimensions Host=web-1 --unit Milliseconds --value 10 --timestamp "$(at '+5 sec')"
cwq put-metric-data --namespace Shop --metric-data "MetricName=Latency,Dimensions=[{Name=Host,Value=web-1}],Unit=Milliseconds,Values=[20,60],Counts=[1,2],Timestamp=$(at '+20 sec')"
cwc put-metric-data --namespace Shop --metric-name Latency --dimensions Host=web-1 --unit Milliseconds --statistic-values SampleCount=2,Sum=30,Minimum=10,Maximum=20 --timestamp "$(at '+40 sec')"
pass "put-metric-data in each protocol"

for c in cw cwq cwc; do
  out=$($c get-metric-statistics --namespace Shop --metric-name Latency --dimensions Name=Host,Value=web-1 \
    --start-time "$(at '-1 min')" --end-time "$(at '+2 min')" --period 60 --statistics Sum SampleCount Minimum Maximum Average)
  jeq "$out" '.Datapoints | length' 1 "$c datapoints"
  jeq "$out" '.Datapoints[0] | [.Sum, .SampleCount, .Minimum, .Maximum, .Average, .Unit] | map(tostring) | join(" ")' "180 6 10 60 30 Milliseconds" "$c statistics"
  jeq "$out" '.Label' Latency "$c label"
done
out=$(cw get-metric-statistics --namespace Shop --metric-name Latency --dimensions Name=Host,Value=web-1 \
  --start-time "$(at '-1 min')" --end-time "$(at '+2 min')" --period 60 --extended-statistics p50 p100)
# Statistic sets carry no values: the percentiles of a minute with one cannot be computed,
# except p100 (the maximum).
jeq "$out" '.Datapoints[0].ExtendedStatistics.p100' 60 "p100"
jeq "$out" '.Datapoints[0].ExtendedStatistics.p50 // "none"' none "p50 over a statistic set"
out=$(cwq get-metric-statistics --namespace Shop --metric-name Latency --dimensions Name=Host,Value=web-1 --start-time "$(at '-1 min')" --end-time "$(at '+2 min')" --period 60 --statistics Sum)
jeq "$out" '.Datapoints[0].Timestamp' "$(date -u -d "$minute" +%Y-%m-%dT%H:%M:%SZ)" "query timestamp"
pass "get-metric-statistics"

jeq "$(cw list-metrics --namespace Shop)" '.Metrics[0].Dimensions[0].Value' web-1 "list-metrics"
jeq "$(cwc list-metrics --namespace Other)" '.Metrics | length' 0 "list-metrics other namespace"
out=$(cw get-metric-data --start-time "$(at '-1 min')" --end-time "$(at '+2 min')" --metric-data-queries \
  '[{"Id":"lat","MetricStat":{"Metric":{"Namespace":"Shop","MetricName":"Latency","Dimensions":[{"Name":"Host","Value":"web-1"}]},"Period":60,"Stat":"Maximum"}}]')
jeq "$out" '.MetricDataResults[0] | [.Id, .StatusCode, (.Values|tostring)] | join(" ")' "lat Complete [60]" "get-metric-data"
expect_error InvalidParameterValue cw get-metric-data --start-time "$(at '-1 min')" --end-time "$(at '+2 min')" --metric-data-queries '[{"Id":"e","Expression":"SUM(METRICS())"}]'
pass "list-metrics, get-metric-data"

# Errors, with the Query codes in every protocol.
for c in cw cwq cwc; do
  expect_error InvalidParameterValue $c put-metric-data --namespace AWS/EC2 --metric-name X --value 1
  expect_error ResourceNotFound $c set-alarm-state --alarm-name ghost --state-value OK --state-reason x
  expect_error InvalidParameterCombination $c get-metric-statistics --namespace Shop --metric-name Latency --start-time "$(at '-1 min')" --end-time "$(at '+1 min')" --period 60
  expect_error InvalidParameterValue $c put-metric-alarm --alarm-name bad --metric-name M --namespace N --statistic Sum --period 45 --evaluation-periods 1 --threshold 1 --comparison-operator GreaterThanThreshold
  expect_error UnsupportedOperation $c list-dashboards
done
expect_error InvalidParameterValue cwq put-metric-data --namespace Shop --metric-name X --value NaN
expect_error InvalidParameterCombination cw get-metric-statistics --namespace Shop --metric-name Latency --start-time "$(date -u -d '-2 day' +%FT%TZ)" --end-time "$(date -u +%FT%TZ)" --period 60 --statistics Sum
pass "error codes"

# An alarm on a high-resolution metric: 10-second periods, notBreaching, so it is OK at once.
cw put-metric-alarm --alarm-name checkout-errors --alarm-description "errors at checkout" --metric-name Errors --namespace Shop \
  --statistic Sum --period 10 --evaluation-periods 1 --threshold 5 --comparison-operator GreaterThanThreshold --treat-missing-data notBreaching
wait_state() {
  for _ in $(seq 1 200); do
    [ "$(cw describe-alarms --alarm-names checkout-errors --query 'MetricAlarms[0].StateValue' --output text)" == "$1" ] && return 0
    sleep 0.1
  done
  fail "alarm never reached $1: $(cw describe-alarms --alarm-names checkout-errors)"
}
wait_state OK
cw put-metric-data --namespace Shop --metric-name Errors --value 9 --storage-resolution 1 --timestamp "$(date -u -d '-10 sec' +%FT%TZ)"
wait_state ALARM
out=$(cwq describe-alarms --alarm-names checkout-errors)
jeq "$out" '.MetricAlarms[0].StateReason | startswith("Threshold Crossed: 1 datapoint [9.0 (")' true "state reason"
jeq "$out" '.MetricAlarms[0].StateReasonData | fromjson | .recentDatapoints | tostring' "[9]" "state reason data"
jeq "$(cwc describe-alarms-for-metric --metric-name Errors --namespace Shop)" '.MetricAlarms[0].AlarmName' checkout-errors "describe-alarms-for-metric"
jeq "$(cw describe-alarms --state-value OK)" '.MetricAlarms | length' 0 "describe-alarms --state-value"
pass "alarm goes to ALARM when the breaching datum arrives"

cw set-alarm-state --alarm-name checkout-errors --state-value OK --state-reason "manual check"
jeq "$(cw describe-alarms --alarm-names checkout-errors)" '.MetricAlarms[0] | [.StateValue, .StateReason] | join("/")' "OK/manual check" "set-alarm-state"
expect_error InvalidFormat cw set-alarm-state --alarm-name checkout-errors --state-value OK --state-reason x --state-reason-data 'not json'
# The next evaluation puts it back: the datum still breaches within its range.
wait_state ALARM
out=$(cw describe-alarm-history --alarm-name checkout-errors --history-item-type StateUpdate)
jeq "$out" '[.AlarmHistoryItems[].HistorySummary] | join(";")' \
  "Alarm updated from OK to ALARM;Alarm updated from ALARM to OK;Alarm updated from OK to ALARM;Alarm updated from INSUFFICIENT_DATA to OK" "state history"
jeq "$(cwq describe-alarm-history --alarm-name checkout-errors --history-item-type ConfigurationUpdate)" '.AlarmHistoryItems[0].HistorySummary' 'Alarm "checkout-errors" created' "configuration history"
jeq "$(cwc describe-alarm-history --max-records 1)" '.AlarmHistoryItems | length' 1 "history page"
cw disable-alarm-actions --alarm-names checkout-errors
jeq "$(cw describe-alarms)" '.MetricAlarms[0].ActionsEnabled' false "disable-alarm-actions"
pass "set-alarm-state, history, actions"

stop_server
start_server
jeq "$(cw describe-alarms)" '.MetricAlarms[0] | [.StateValue, (.ActionsEnabled|tostring)] | join(" ")' "ALARM false" "alarm after restart"
jeq "$(cw get-metric-statistics --namespace Shop --metric-name Latency --dimensions Name=Host,Value=web-1 --start-time "$(at '-1 min')" --end-time "$(at '+2 min')" --period 60 --statistics Sum)" \
  '.Datapoints[0].Sum' 180 "datapoints after restart"
cwc enable-alarm-actions --alarm-names checkout-errors
expect_error ResourceNotFound cw delete-alarms --alarm-names checkout-errors ghost
cwq delete-alarms --alarm-names checkout-errors
jeq "$(cw describe-alarms)" '.MetricAlarms | length' 0 "delete-alarms"
pass "restart keeps alarms and data; delete-alarms"
echo "monitoring.sh: all passed"
