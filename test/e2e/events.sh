#!/usr/bin/env bash
# EventBridge through the aws CLI: the default bus, put-rule with a CloudTrail pattern (and an
# invalid one), a connection and an API destination with an API key, put-targets to that HTTP
# endpoint and to a CloudWatch Logs group with an input path, an IAM CreateUser delivered to
# both (and a ListUsers delivered to neither), test-event-pattern, put-events with a failed
# entry, list/describe/disable/remove/delete, an unsupported operation, and a restart that
# keeps the rules.
source "$(dirname "$0")/lib.sh"
deadline 100
trap 'kill "${DEADLINE_PID:-}" 2>/dev/null || true; [ -n "${HOOK_PID:-}" ] && kill "$HOOK_PID" 2>/dev/null; cleanup' EXIT
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND exited with status $?" >&2' ERR
if command -v pyenv >/dev/null 2>&1 && real_aws=$(pyenv which aws 2>/dev/null); then
  PATH="$(dirname "$real_aws"):$PATH"
fi

# An HTTP endpoint that appends each request (API key header, then body) to a file.
HOOK_PORT=$(free_port)
HOOK_FILE="$WORK/hook.jsonl"
python3 - "$HOOK_PORT" "$HOOK_FILE" <<'PY' &
import http.server, json, sys
port, path = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        with open(path, "a") as f:
            f.write(json.dumps({"key": self.headers.get("X-Api-Key"), "body": json.loads(body)}) + "\n")
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
HOOK_PID=$!

start_server

ev() { root events "$@"; }

# --- Buses and rules ----------------------------------------------------------------------------
jeq "$(ev list-event-buses)" '.EventBuses[0].Name' default "default bus"
PATTERN='{"source":["aws.iam"],"detail":{"eventName":["CreateUser"]}}'
out=$(ev put-rule --name new-users --event-pattern "$PATTERN")
jeq "$out" '.RuleArn' "arn:aws:events:us-east-1:$ACCOUNT:rule/new-users" "rule arn"
expect_error InvalidEventPatternException ev put-rule --name bad --event-pattern '{"source":"aws.iam"}'
expect_error ValidationException ev put-rule --name 'bad name' --event-pattern '{}'
expect_error ResourceNotFoundException ev describe-rule --name missing
jeq "$(ev describe-rule --name new-users)" '.State' ENABLED "state"
pass "rules"

# --- Targets: an API destination and a log group -------------------------------------------------
CONN=$(ev create-connection --name hook --authorization-type API_KEY \
  --auth-parameters '{"ApiKeyAuthParameters":{"ApiKeyName":"X-Api-Key","ApiKeyValue":"cli-secret"}}' --query ConnectionArn --output text)
out=$(ev describe-connection --name hook)
jeq "$out" '.AuthParameters.ApiKeyAuthParameters.ApiKeyName' X-Api-Key "connection key name"
echo "$out" | grep -q cli-secret && fail "describe-connection shows the secret"
# (--cli-input-json: the CLI would fetch an http:// parameter value instead of passing it.)
DEST=$(ev create-api-destination --cli-input-json "{\"Name\":\"hook\",\"ConnectionArn\":\"$CONN\",
  \"InvocationEndpoint\":\"http://127.0.0.1:$HOOK_PORT/events\",\"HttpMethod\":\"POST\"}" --query ApiDestinationArn --output text)
root logs create-log-group --log-group-name /events/new-users
out=$(ev put-targets --rule new-users --targets "[{\"Id\":\"hook\",\"Arn\":\"$DEST\"},
  {\"Id\":\"logs\",\"Arn\":\"arn:aws:logs:us-east-1:$ACCOUNT:log-group:/events/new-users\",\"InputPath\":\"\$.detail.requestParameters\"}]")
jeq "$out" '.FailedEntryCount' 0 "put-targets"
out=$(ev put-targets --rule new-users --targets '[{"Id":"q","Arn":"arn:aws:sqs:us-east-1:123456789012:q"}]')
jeq "$out" '.FailedEntryCount' 1 "unsupported target refused"
jeq "$(ev list-targets-by-rule --rule new-users)" '.Targets | length' 2 "targets"
pass "targets"

# --- Delivery ------------------------------------------------------------------------------------
root iam list-users >/dev/null
root iam create-user --user-name eb-cli >/dev/null
for _ in $(seq 1 100); do [ -s "$HOOK_FILE" ] && break; sleep 0.05; done
[ -s "$HOOK_FILE" ] || fail "no HTTP delivery"
line=$(head -1 "$HOOK_FILE")
jeq "$line" '.key' cli-secret "API key header"
jeq "$line" '.body["detail-type"]' "AWS API Call via CloudTrail" "detail-type"
jeq "$line" '.body.source' aws.iam "source"
jeq "$line" '.body.detail.eventName' CreateUser "eventName"
jeq "$line" '.body.account' "$ACCOUNT" "account"
for _ in $(seq 1 100); do
  msg=$(root logs filter-log-events --log-group-name /events/new-users --query 'events[0].message' --output text)
  [ "$msg" != "None" ] && break; sleep 0.05
done
jeq "$msg" '.userName' eb-cli "log group target with input path"
sleep 1
eq "$(wc -l <"$HOOK_FILE")" 1 "only CreateUser is delivered"
pass "delivery"

# --- TestEventPattern and PutEvents ---------------------------------------------------------------
EVENT=$(jq -c '.body' <<<"$line")
jeq "$(ev test-event-pattern --event-pattern "$PATTERN" --event "$EVENT")" '.Result' true "test-event-pattern true"
jeq "$(ev test-event-pattern --event-pattern '{"detail":{"eventName":[{"prefix":"Delete"}]}}' --event "$EVENT")" '.Result' false "test-event-pattern false"
expect_error InvalidEventPatternException ev test-event-pattern --event-pattern '{"a":[{"wildcard":"a**"}]}' --event "$EVENT"
out=$(ev put-events --entries '[{"Source":"my.app","DetailType":"t","Detail":"{\"k\":1}"},{"Source":"my.app","DetailType":"t","Detail":"nope"}]')
jeq "$out" '.FailedEntryCount' 1 "put-events failed entries"
jeq "$out" '.Entries[1].ErrorCode' MalformedDetail "put-events error code"
pass "test-event-pattern and put-events"

# --- Lifecycle ----------------------------------------------------------------------------------
ev disable-rule --name new-users
stop_server
start_server
jeq "$(ev describe-rule --name new-users)" '.State' DISABLED "state after restart"
jeq "$(ev list-targets-by-rule --rule new-users)" '.Targets | length' 2 "targets after restart"
expect_error ValidationException ev delete-rule --name new-users
ev remove-targets --rule new-users --ids hook logs >/dev/null
ev delete-rule --name new-users
jeq "$(ev list-rules)" '.Rules | length' 0 "rules deleted"
expect_error UnsupportedOperationException ev list-archives
pass "lifecycle"
echo "events.sh: all passed"
