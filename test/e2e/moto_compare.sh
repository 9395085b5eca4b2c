#!/usr/bin/env bash
# OpenTrail against moto: runs one script of CloudTrail trail operations through the aws CLI
# against a real `opentrail serve` and against moto_server, records every raw response
# (botocore's --debug log), and compares, step by step, the outcome (success or error code), the
# HTTP status and the shape of the body (keys and JSON types, recursively; values ignored) with
# shapes.py. Every difference must be listed in ALLOW below with the reason OpenTrail is right
# (AWS's documented behaviour; see docs/compatibility.md, "Compared with moto"); any other
# difference fails the script. The two servers are driven side by side, so a run takes about
# half a minute on an idle machine.
source "$(dirname "$0")/lib.sh"
deadline 110

command -v moto_server >/dev/null 2>&1 || fail "moto_server is not installed (scripts/setup installs moto[server])"
# Call the aws CLI itself rather than pyenv's shim, which re-resolves the version every call.
if command -v pyenv >/dev/null 2>&1 && real_aws=$(pyenv which aws 2>/dev/null); then
  PATH="$(dirname "$real_aws"):$PATH"
fi

MOTO_PORT=$(free_port)
MOTO_EP="http://127.0.0.1:$MOTO_PORT"
MOTO_PID=""
SEQ_PIDS=()
compare_cleanup() {
  local p
  for p in "${SEQ_PIDS[@]}" "$MOTO_PID" "${DEADLINE_PID:-}"; do
    if [ -n "$p" ]; then kill "$p" 2>/dev/null || true; fi
  done
  if [ -n "$MOTO_PID" ]; then wait "$MOTO_PID" 2>/dev/null || true; fi
  cleanup
}
trap compare_cleanup EXIT

# The differences that are explained: STEP_GLOB PATH reason (see shapes.py). Each one is
# described in docs/compatibility.md, "Compared with moto".
ALLOW=$(cat <<'EOF'
# Error bodies: every CloudTrail error shape's one member is "Message" (Smithy model); moto sends "message".
*  .Message  AWS error shapes declare Message (capital M); moto writes message
*  .message  moto writes message in lower case; the CloudTrail model says Message
# GetTrail's Trail shape has HomeRegion (DescribeTrails' entries carry it too); moto leaves it out of GetTrail.
get-trail  .Trail.HomeRegion  the model's Trail shape has HomeRegion and AWS sends it; moto omits it in GetTrail
# CreateTrail and UpdateTrail answer with the trail's settings; HasCustomEventSelectors and
# HasInsightSelectors are members of Trail (GetTrail, DescribeTrails), not of these outputs.
create-trail-*  .HasCustomEventSelectors  not a member of CreateTrailResponse in the model; moto adds it
create-trail-*  .HasInsightSelectors  not a member of CreateTrailResponse in the model; moto adds it
update-trail  .HasCustomEventSelectors  not a member of UpdateTrailResponse in the model; moto adds it
update-trail  .HasInsightSelectors  not a member of UpdateTrailResponse in the model; moto adds it
# GetEventSelectors/PutEventSelectors: AWS answers with the kind of selectors in use only, and echoes
# ExcludeManagementEventSources ([] when unset) in basic selectors (CloudTrail user guide examples).
get-event-selectors-default  .AdvancedEventSelectors  AWS returns only the selector kind in use; moto always adds an empty AdvancedEventSelectors
get-event-selectors-basic  .AdvancedEventSelectors  AWS returns only the selector kind in use; moto always adds an empty AdvancedEventSelectors
get-event-selectors-advanced  .EventSelectors  AWS returns only the selector kind in use; moto always adds an empty EventSelectors
put-event-selectors-basic  .EventSelectors[].ExcludeManagementEventSources  AWS echoes ExcludeManagementEventSources, [] when unset; moto echoes the request as sent
get-event-selectors-basic  .EventSelectors[].ExcludeManagementEventSources  AWS echoes ExcludeManagementEventSources, [] when unset; moto returns what was sent
# GetTrailStatus: moto invents a log delivery when logging starts; OpenTrail reports deliveries it has made.
get-trail-status-logging  .LatestDeliveryTime  moto fakes a delivery on StartLogging; OpenTrail reports only real deliveries
get-trail-status-stopped  .LatestDeliveryTime  moto fakes a delivery on StartLogging; OpenTrail reports only real deliveries
# Outcomes where moto accepts what AWS refuses, or cannot find what AWS finds.
get-insight-selectors-none  outcome  AWS answers InsightNotEnabledException for a trail without Insights; moto returns an empty result
get-trail-by-arn  outcome  AWS reads a trail of another region by ARN (shadow trails); moto looks only in the request region
create-trail-exists  outcome  AWS refuses a second trail of the same name (TrailAlreadyExistsException); moto overwrites the trail
put-event-selectors-invalid  outcome  AWS validates ReadWriteType (InvalidEventSelectorsException); moto stores anything
delete-trail-missing  outcome  AWS answers TrailNotFoundException for an unknown trail; moto succeeds silently
update-trail-other-region  outcome  AWS changes a trail only in its home region (InvalidHomeRegionException); moto looks for the ARN in the request region
add-tags-missing  outcome  AWS answers ResourceNotFoundException for a trail that does not exist; moto tags it anyway
EOF
)

# Servers. moto is started first: it takes a couple of seconds to import.
moto_server -H 127.0.0.1 -p "$MOTO_PORT" >"$WORK/moto.log" 2>&1 &
MOTO_PID=$!
start_server
for _ in $(seq 1 600); do
  curl -fsS -o /dev/null "$MOTO_EP/moto-api/" 2>/dev/null && break
  kill -0 "$MOTO_PID" 2>/dev/null || { cat "$WORK/moto.log"; fail "moto_server exited during start"; }
  sleep 0.05
done
curl -fsS -o /dev/null "$MOTO_EP/moto-api/" || fail "moto_server did not answer on $MOTO_EP"

moto() {
  AWS_ACCESS_KEY_ID=testing AWS_SECRET_ACCESS_KEY=testing AWS_SESSION_TOKEN="" aws --endpoint-url "$MOTO_EP" "$@"
}

BUCKET=ot-compare-logs
"$OPENTRAIL_BIN" admin create-bucket --data-dir "$DATA" "$BUCKET" >/dev/null
moto s3api create-bucket --bucket "$BUCKET" >/dev/null

# step NAME aws-args...: runs the aws CLI (function $CALL) with --debug, recording its stdout,
# the debug log (where botocore writes each raw response) and its exit status under $DIR.
step() {
  local name=$1; shift
  echo "$name" >>"$DIR/steps"
  local rc=0
  "$CALL" --cli-connect-timeout 5 --cli-read-timeout 20 --debug "$@" >"$DIR/$name.out" 2>"$DIR/$name.log" || rc=$?
  echo "$rc" >"$DIR/$name.rc"
}

MULTI=ct-multi
SINGLE=ct-single
MULTI_ARN="arn:aws:cloudtrail:us-east-1:$ACCOUNT:trail/$MULTI"
SINGLE_ARN="arn:aws:cloudtrail:us-east-1:$ACCOUNT:trail/$SINGLE"
BASIC='[{"ReadWriteType":"All","IncludeManagementEvents":true,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::ot-compare-logs/"]},{"Type":"AWS::Lambda::Function","Values":["arn:aws:lambda"]}]}]'
ADVANCED='[{"Name":"management","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]}]},{"Name":"s3 writes","FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]},{"Field":"resources.type","Equals":["AWS::S3::Object"]},{"Field":"readOnly","Equals":["false"]},{"Field":"resources.ARN","StartsWith":["arn:aws:s3:::ot-compare-logs/"]}]}]'

# The script of shared operations, run once against each server.
sequence() {
  mkdir -p "$DIR"
  step create-trail-multi cloudtrail create-trail --name "$MULTI" --s3-bucket-name "$BUCKET" --s3-key-prefix logs \
    --is-multi-region-trail --include-global-service-events --tags-list Key=team,Value=security
  step create-trail-single cloudtrail create-trail --name "$SINGLE" --s3-bucket-name "$BUCKET" \
    --no-include-global-service-events --enable-log-file-validation
  step get-trail cloudtrail get-trail --name "$MULTI"
  step describe-trails cloudtrail describe-trails
  step describe-trails-names cloudtrail describe-trails --trail-name-list "$SINGLE" "$MULTI_ARN" no-such-trail
  step describe-trails-other-region cloudtrail describe-trails --region us-west-2
  step describe-trails-no-shadow cloudtrail describe-trails --region us-west-2 --no-include-shadow-trails
  step get-trail-by-arn cloudtrail get-trail --name "$MULTI_ARN" --region us-west-2
  step list-trails cloudtrail list-trails
  step get-trail-status-new cloudtrail get-trail-status --name "$MULTI"
  step start-logging cloudtrail start-logging --name "$MULTI"
  step get-trail-status-logging cloudtrail get-trail-status --name "$MULTI"
  step stop-logging cloudtrail stop-logging --name "$MULTI"
  step get-trail-status-stopped cloudtrail get-trail-status --name "$MULTI"
  step update-trail cloudtrail update-trail --name "$SINGLE" --s3-key-prefix archive --no-enable-log-file-validation
  step get-event-selectors-default cloudtrail get-event-selectors --trail-name "$MULTI"
  step put-event-selectors-basic cloudtrail put-event-selectors --trail-name "$MULTI" --event-selectors "$BASIC"
  step get-event-selectors-basic cloudtrail get-event-selectors --trail-name "$MULTI"
  step put-event-selectors-advanced cloudtrail put-event-selectors --trail-name "$SINGLE" --advanced-event-selectors "$ADVANCED"
  step get-event-selectors-advanced cloudtrail get-event-selectors --trail-name "$SINGLE"
  step get-insight-selectors-none cloudtrail get-insight-selectors --trail-name "$MULTI"
  step put-insight-selectors cloudtrail put-insight-selectors --trail-name "$MULTI" \
    --insight-selectors '[{"InsightType":"ApiCallRateInsight"},{"InsightType":"ApiErrorRateInsight"}]'
  step get-insight-selectors cloudtrail get-insight-selectors --trail-name "$MULTI"
  step add-tags cloudtrail add-tags --resource-id "$MULTI_ARN" --tags-list Key=env,Value=test Key=owner,Value=alice Key=flag
  step list-tags cloudtrail list-tags --resource-id-list "$MULTI_ARN" "$SINGLE_ARN"
  step remove-tags cloudtrail remove-tags --resource-id "$MULTI_ARN" --tags-list Key=owner
  step list-tags-after-remove cloudtrail list-tags --resource-id-list "$MULTI_ARN"
  step get-trail-after-changes cloudtrail describe-trails --trail-name-list "$MULTI" "$SINGLE"
  # Errors.
  step create-trail-bad-name cloudtrail create-trail --name ab --s3-bucket-name "$BUCKET"
  step create-trail-no-bucket cloudtrail create-trail --name ct-nobucket --s3-bucket-name ot-compare-no-such-bucket
  step get-trail-missing cloudtrail get-trail --name no-such-trail
  step get-trail-status-missing cloudtrail get-trail-status --name no-such-trail
  step update-trail-missing cloudtrail update-trail --name no-such-trail --s3-key-prefix x
  step put-event-selectors-invalid cloudtrail put-event-selectors --trail-name "$SINGLE" \
    --event-selectors '[{"ReadWriteType":"Sometimes"}]'
  step create-trail-exists cloudtrail create-trail --name "$SINGLE" --s3-bucket-name "$BUCKET"
  step delete-trail-missing cloudtrail delete-trail --name no-such-trail
  step update-trail-other-region cloudtrail update-trail --name "$MULTI_ARN" --s3-key-prefix x --region us-west-2
  step add-tags-missing cloudtrail add-tags --resource-id "arn:aws:cloudtrail:us-east-1:$ACCOUNT:trail/no-such-trail" \
    --tags-list Key=a,Value=b
  step create-trail-sns cloudtrail create-trail --name ct-sns --s3-bucket-name "$BUCKET" --sns-topic-name ct-topic
  # Deletion.
  step delete-trail cloudtrail delete-trail --name "$SINGLE"
  step delete-trail-multi cloudtrail delete-trail --name "$MULTI_ARN"
  step list-trails-after-delete cloudtrail list-trails
  step describe-trails-after-delete cloudtrail describe-trails
}

(DIR="$WORK/runs/opentrail" CALL=root sequence) &
SEQ_PIDS+=($!)
(DIR="$WORK/runs/moto" CALL=moto sequence) &
SEQ_PIDS+=($!)
for p in "${SEQ_PIDS[@]}"; do wait "$p" || fail "a step sequence failed to run"; done
SEQ_PIDS=()

echo "$ALLOW" >"$WORK/allow"
# MOTO_COMPARE_KEEP=DIR keeps the recorded runs (for shapes.py DIR/opentrail DIR/moto ALLOW).
if [ -n "${MOTO_COMPARE_KEEP:-}" ]; then
  mkdir -p "$MOTO_COMPARE_KEEP" && cp -r "$WORK/runs/." "$WORK/allow" "$MOTO_COMPARE_KEEP/"
fi
if ! python3 "$(dirname "$0")/shapes.py" "$WORK/runs/opentrail" "$WORK/runs/moto" "$WORK/allow"; then
  fail "OpenTrail's responses differ from moto's in ways not explained above (see UNEXPLAINED lines)"
fi
pass "response shapes match moto's, or differ as documented"
echo "moto_compare.sh: all passed"
