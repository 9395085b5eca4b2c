#!/usr/bin/env bash
# The CloudTrail trail control plane through the aws CLI: create (single- and multi-region),
# get, describe (shadow trails, other regions), list (pagination), status and logging, update,
# event selectors (basic, data resources, advanced), Insights selectors, tags, delete; the
# error paths with their exact codes; a user without CloudTrail permissions; and a restart that
# keeps trails, selectors, tags and status.
source "$(dirname "$0")/lib.sh"
deadline 115
trap 'kill "${DEADLINE_PID:-}" 2>/dev/null || true; cleanup' EXIT
# A command that fails outside a check ends the script (set -e); say which one.
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND exited with status $?" >&2' ERR
# Call the aws CLI itself rather than pyenv's shim, which re-resolves the version every call.
if command -v pyenv >/dev/null 2>&1 && real_aws=$(pyenv which aws 2>/dev/null); then
  PATH="$(dirname "$real_aws"):$PATH"
fi

start_server

ct() { root cloudtrail "$@"; }                      # cloudtrail as root in us-east-1
west() { root --region us-west-2 cloudtrail "$@"; } # ... in us-west-2
BUCKET=trail-logs
BUCKET2=trail-logs-archive
MR=org-audit          # multi-region trail
SR=app-events         # single-region trail
MR_ARN="arn:aws:cloudtrail:us-east-1:$ACCOUNT:trail/$MR"
SR_ARN="arn:aws:cloudtrail:us-east-1:$ACCOUNT:trail/$SR"

# Buckets are made with the admin command while the server runs.
"$OPENTRAIL_BIN" admin create-bucket --data-dir "$DATA" "$BUCKET" >/dev/null
"$OPENTRAIL_BIN" admin create-bucket --data-dir "$DATA" "$BUCKET2" >/dev/null
[ -d "$DATA/buckets/$BUCKET" ] || fail "admin create-bucket made no bucket directory"
pass "admin create-bucket"

# A user with a key and no policy may not touch trails.
root iam create-user --user-name nobody >/dev/null
read -r NAKID NSECRET < <(root iam create-access-key --user-name nobody --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
expect_error AccessDeniedException as "$NAKID" "$NSECRET" -- cloudtrail describe-trails
expect_error AccessDeniedException as "$NAKID" "$NSECRET" -- cloudtrail create-trail --name sneaky --s3-bucket-name "$BUCKET"
pass "user without cloudtrail permissions: AccessDeniedException"

# --- Create ------------------------------------------------------------------------------------
out=$(ct create-trail --name "$MR" --s3-bucket-name "$BUCKET" --s3-key-prefix logs/audit --is-multi-region-trail \
  --include-global-service-events --tags-list Key=owner,Value=secops)
jeq "$out" '[.Name,.S3BucketName,.S3KeyPrefix,.IncludeGlobalServiceEvents,.IsMultiRegionTrail,.TrailARN,.LogFileValidationEnabled,.IsOrganizationTrail]|join(" ")' \
  "$MR $BUCKET logs/audit true true $MR_ARN false false" "create-trail multi-region output"
jeq "$out" 'has("HomeRegion") or has("HasCustomEventSelectors")' false "create-trail output has only CreateTrailResponse members"
out=$(ct create-trail --name "$SR" --s3-bucket-name "$BUCKET" --no-include-global-service-events)
jeq "$out" '[.Name,.IncludeGlobalServiceEvents,.IsMultiRegionTrail,.TrailARN,has("S3KeyPrefix")]|join(" ")' \
  "$SR false false $SR_ARN false" "create-trail single-region output"
pass "create-trail single and multi-region"

# --- Read --------------------------------------------------------------------------------------
out=$(ct get-trail --name "$MR")
jeq "$out" '.Trail|[.Name,.HomeRegion,.TrailARN,.S3KeyPrefix,.IsMultiRegionTrail,.IncludeGlobalServiceEvents,.HasCustomEventSelectors,.HasInsightSelectors]|join(" ")' \
  "$MR us-east-1 $MR_ARN logs/audit true true false false" "get-trail"
jeq "$(ct get-trail --name "$SR_ARN")" '.Trail.Name' "$SR" "get-trail by ARN"
jeq "$(ct describe-trails)" '[.trailList[].Name]|sort|join(",")' "$SR,$MR" "describe-trails in the home region"
jeq "$(ct describe-trails --trail-name-list "$SR" "$MR_ARN" no-such-trail)" '[.trailList[].Name]|join(",")' "$SR,$MR" \
  "describe-trails by name and ARN (unknown names left out)"
out=$(west describe-trails)
jeq "$out" '[.trailList[]|.Name+"@"+.HomeRegion]|join(",")' "$MR@us-east-1" "describe-trails in us-west-2 shows the shadow of the multi-region trail"
jeq "$(west describe-trails --no-include-shadow-trails)" '.trailList|length' 0 "describe-trails --no-include-shadow-trails"
jeq "$(west describe-trails --trail-name-list "$SR_ARN")" '[.trailList[].Name]|join(",")' "$SR" "describe-trails by ARN from another region"
jeq "$(west describe-trails --trail-name-list "$SR")" '.trailList|length' 0 "a name designates the request region's trail"
jeq "$(west get-trail --name "$MR_ARN")" '.Trail.HomeRegion' us-east-1 "get-trail of a shadow trail by ARN"
jeq "$(ct list-trails)" '[.Trails[]|.Name+"@"+.HomeRegion]|sort|join(",")' "$SR@us-east-1,$MR@us-east-1" "list-trails"
pass "get-trail, describe-trails (shadow trails, other region), list-trails"

# --- Status and logging ------------------------------------------------------------------------
out=$(ct get-trail-status --name "$MR")
jeq "$out" '[.IsLogging,has("StartLoggingTime"),has("StopLoggingTime"),.TimeLoggingStarted,.TimeLoggingStopped]|map(tostring)|join(" ")' \
  "false false false  " "status of a new trail: not logging, never started"
ct start-logging --name "$MR"
s1=$(ct get-trail-status --name "$MR")
jeq "$s1" '.IsLogging' true "IsLogging after start-logging"
start1=$(jq -r '.StartLoggingTime' <<<"$s1")
[[ $start1 =~ ^[0-9]+(\.[0-9]+)?$ ]] || fail "StartLoggingTime is not epoch seconds: $start1"
jeq "$s1" '.TimeLoggingStarted' "$(jq -r '.StartLoggingTime|floor|todate' <<<"$s1")" "TimeLoggingStarted matches StartLoggingTime"
ct start-logging --name "$MR"
jeq "$(ct get-trail-status --name "$MR")" '.StartLoggingTime' "$start1" "start-logging on a logging trail changes nothing"
ct stop-logging --name "$MR"
s2=$(ct get-trail-status --name "$MR")
jeq "$s2" '[.IsLogging,.StartLoggingTime==('"$start1"'),.StopLoggingTime>=.StartLoggingTime,.TimeLoggingStopped==(.StopLoggingTime|floor|todate)]|map(tostring)|join(" ")' \
  "false true true true" "status after stop-logging"
ct start-logging --name "$MR"
s3=$(ct get-trail-status --name "$MR")
jeq "$s3" '[.IsLogging,.StartLoggingTime>'"$start1"',.StopLoggingTime==('"$(jq '.StopLoggingTime' <<<"$s2")"')]|map(tostring)|join(" ")' \
  "true true true" "status after a second start-logging"
jeq "$(west get-trail-status --name "$MR_ARN")" '.IsLogging' true "get-trail-status of a shadow trail by ARN"
expect_error TrailNotFoundException west get-trail-status --name "$MR"
pass "get-trail-status, start-logging, stop-logging"

# --- Update ------------------------------------------------------------------------------------
out=$(ct update-trail --name "$SR" --s3-bucket-name "$BUCKET2" --s3-key-prefix app --enable-log-file-validation)
jeq "$out" '[.Name,.S3BucketName,.S3KeyPrefix,.LogFileValidationEnabled,.IsMultiRegionTrail,.IncludeGlobalServiceEvents]|join(" ")' \
  "$SR $BUCKET2 app true false false" "update-trail output"
out=$(ct update-trail --name "$SR_ARN" --is-multi-region-trail --include-global-service-events)
jeq "$out" '[.IsMultiRegionTrail,.IncludeGlobalServiceEvents,.S3KeyPrefix]|join(" ")' "true true app" "update-trail to multi-region (by ARN); other settings kept"
jeq "$(west describe-trails)" '[.trailList[].Name]|sort|join(",")' "$SR,$MR" "a trail made multi-region shows in other regions"
ct update-trail --name "$SR" --no-is-multi-region-trail --s3-key-prefix "" >/dev/null
out=$(ct get-trail --name "$SR")
jeq "$out" '.Trail|[.IsMultiRegionTrail,.S3BucketName,has("S3KeyPrefix"),.LogFileValidationEnabled]|map(tostring)|join(" ")' \
  "false $BUCKET2 false true" "get-trail after update-trail back to single-region, prefix cleared"
jeq "$(west describe-trails)" '[.trailList[].Name]|join(",")' "$MR" "single-region again: no longer shown in us-west-2"
pass "update-trail"

# --- Event selectors ---------------------------------------------------------------------------
out=$(ct get-event-selectors --trail-name "$MR")
jeq "$out" '[.TrailARN,(.EventSelectors|length),.EventSelectors[0].ReadWriteType,.EventSelectors[0].IncludeManagementEvents,(.EventSelectors[0].DataResources|length),has("AdvancedEventSelectors")]|map(tostring)|join(" ")' \
  "$MR_ARN 1 All true 0 false" "default event selectors"
BASIC='[{"ReadWriteType":"WriteOnly","IncludeManagementEvents":true,"ExcludeManagementEventSources":["kms.amazonaws.com"],"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::trail-logs/incoming/"]},{"Type":"AWS::Lambda::Function","Values":["arn:aws:lambda"]}]},{"ReadWriteType":"ReadOnly","IncludeManagementEvents":false,"DataResources":[{"Type":"AWS::DynamoDB::Table","Values":["arn:aws:dynamodb:us-east-1:123456789012:table/orders"]}]}]'
out=$(ct put-event-selectors --trail-name "$MR" --event-selectors "$BASIC")
jeq "$out" '.TrailARN' "$MR_ARN" "put-event-selectors TrailARN"
jeq "$out" '.EventSelectors|map(.ReadWriteType+":"+(.IncludeManagementEvents|tostring)+":"+(.ExcludeManagementEventSources|join("+"))+":"+([.DataResources[]|.Type+"="+(.Values|join("+"))]|join(";")))|join(" ")' \
  "WriteOnly:true:kms.amazonaws.com:AWS::S3::Object=arn:aws:s3:::trail-logs/incoming/;AWS::Lambda::Function=arn:aws:lambda ReadOnly:false::AWS::DynamoDB::Table=arn:aws:dynamodb:us-east-1:123456789012:table/orders" \
  "put-event-selectors echoes the basic selectors"
got=$(ct get-event-selectors --trail-name "$MR")
eq "$(jq -S .EventSelectors <<<"$got")" "$(jq -S .EventSelectors <<<"$out")" "get-event-selectors returns what put-event-selectors stored"
jeq "$(ct get-trail --name "$MR")" '.Trail.HasCustomEventSelectors' true "HasCustomEventSelectors after put-event-selectors"
ADVANCED='[{"Name":"management writes","FieldSelectors":[{"Field":"eventCategory","Equals":["Management"]},{"Field":"readOnly","Equals":["false"]}]},{"Name":"s3 puts","FieldSelectors":[{"Field":"eventCategory","Equals":["Data"]},{"Field":"resources.type","Equals":["AWS::S3::Object"]},{"Field":"eventName","Equals":["PutObject","DeleteObject"]},{"Field":"resources.ARN","StartsWith":["arn:aws:s3:::trail-logs/"]}]}]'
ct put-event-selectors --trail-name "$SR" --advanced-event-selectors "$ADVANCED" >/dev/null
got=$(ct get-event-selectors --trail-name "$SR")
jeq "$got" 'has("EventSelectors")' false "advanced selectors replace basic ones"
eq "$(jq -cS .AdvancedEventSelectors <<<"$got")" "$(jq -cS . <<<"$ADVANCED")" "get-event-selectors returns the advanced selectors"
pass "put/get-event-selectors: basic, data resources, advanced"

expect_error InvalidEventSelectorsException ct put-event-selectors --trail-name "$SR" --event-selectors '[{"ReadWriteType":"Sometimes"}]'
expect_error InvalidEventSelectorsException ct put-event-selectors --trail-name "$SR" \
  --event-selectors '[{"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::*"]}]}]'
expect_error InvalidEventSelectorsException ct put-event-selectors --trail-name "$SR" \
  --event-selectors '[{"ReadWriteType":"All"}]' --advanced-event-selectors "$ADVANCED"
expect_error InvalidEventSelectorsException ct put-event-selectors --trail-name "$SR" \
  --advanced-event-selectors '[{"FieldSelectors":[{"Field":"readOnly","Equals":["true"]}]}]'
jeq "$(ct get-event-selectors --trail-name "$SR")" '.AdvancedEventSelectors|length' 2 "refused selectors change nothing"
pass "InvalidEventSelectorsException"

# --- Insights selectors ------------------------------------------------------------------------
expect_error InsightNotEnabledException ct get-insight-selectors --trail-name "$MR"
out=$(ct put-insight-selectors --trail-name "$MR" --insight-selectors '[{"InsightType":"ApiCallRateInsight"},{"InsightType":"ApiErrorRateInsight"}]')
jeq "$out" '[.TrailARN,(.InsightSelectors|map(.InsightType)|join("+"))]|join(" ")' "$MR_ARN ApiCallRateInsight+ApiErrorRateInsight" "put-insight-selectors"
jeq "$(ct get-insight-selectors --trail-name "$MR")" '[.TrailARN,(.InsightSelectors|map(.InsightType)|join("+"))]|join(" ")' \
  "$MR_ARN ApiCallRateInsight+ApiErrorRateInsight" "get-insight-selectors"
jeq "$(ct get-trail --name "$MR")" '.Trail.HasInsightSelectors' true "HasInsightSelectors"
expect_error InvalidInsightSelectorsException ct put-insight-selectors --trail-name "$MR" --insight-selectors '[{"InsightType":"ApiLatencyInsight"}]'
# Insights on management events need a trail that logs them: selectors that stop that are refused.
expect_error InvalidEventSelectorsException ct put-event-selectors --trail-name "$MR" \
  --event-selectors '[{"IncludeManagementEvents":false,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3"]}]}]'
pass "put/get-insight-selectors"

# --- Tags --------------------------------------------------------------------------------------
ct add-tags --resource-id "$MR_ARN" --tags-list Key=env,Value=prod Key=team,Value=sec Key=pci
ct add-tags --resource-id "$MR_ARN" --tags-list Key=env,Value=staging
ct add-tags --resource-id "$SR_ARN" --tags-list Key=app,Value=shop
out=$(ct list-tags --resource-id-list "$MR_ARN" "$SR_ARN")
jeq "$out" '[.ResourceTagList[]|.ResourceId+"="+([.TagsList[]|.Key+":"+(.Value//"")]|sort|join(","))]|join(" ")' \
  "$MR_ARN=env:staging,owner:secops,pci:,team:sec $SR_ARN=app:shop" "list-tags (tags from create-trail and add-tags; a re-added key takes the new value)"
ct remove-tags --resource-id "$MR_ARN" --tags-list Key=team Key=env,Value=prod
jeq "$(ct list-tags --resource-id-list "$MR_ARN")" '[.ResourceTagList[0].TagsList[]|.Key]|sort|join(",")' "env,owner,pci" \
  "remove-tags removes a key, and a key=value only when the value matches"
expect_error InvalidTagParameterException ct add-tags --resource-id "$MR_ARN" --tags-list Key=aws:reserved,Value=x
expect_error CloudTrailARNInvalidException ct add-tags --resource-id "arn:aws:cloudtrail:us-east-1:$ACCOUNT:nottrail/x" --tags-list Key=a,Value=b
expect_error ResourceNotFoundException ct list-tags --resource-id-list "arn:aws:cloudtrail:us-east-1:$ACCOUNT:trail/no-such-trail"
pass "add-tags, list-tags, remove-tags"

# --- Error paths -------------------------------------------------------------------------------
expect_error InvalidTrailNameException ct create-trail --name ab --s3-bucket-name "$BUCKET"
expect_error InvalidTrailNameException ct create-trail --name my--trail --s3-bucket-name "$BUCKET"
expect_error InvalidTrailNameException ct create-trail --name 10.0.0.1 --s3-bucket-name "$BUCKET"
expect_error InvalidTrailNameException ct get-trail --name=-leading-dash
expect_error TrailAlreadyExistsException ct create-trail --name "$SR" --s3-bucket-name "$BUCKET"
expect_error TrailAlreadyExistsException west create-trail --name "$MR" --s3-bucket-name "$BUCKET"
expect_error TrailNotFoundException ct get-trail --name no-such-trail
expect_error TrailNotFoundException ct delete-trail --name no-such-trail
expect_error TrailNotFoundException ct start-logging --name no-such-trail
expect_error TrailNotFoundException ct get-event-selectors --trail-name no-such-trail
expect_error S3BucketDoesNotExistException ct create-trail --name orphan --s3-bucket-name no-such-bucket-anywhere
expect_error S3BucketDoesNotExistException ct update-trail --name "$SR" --s3-bucket-name no-such-bucket-anywhere
expect_error InvalidHomeRegionException west update-trail --name "$MR_ARN" --s3-key-prefix moved
expect_error InvalidHomeRegionException west stop-logging --name "$MR_ARN"
expect_error InvalidHomeRegionException west put-event-selectors --trail-name "$MR_ARN" --event-selectors '[{"ReadWriteType":"All"}]'
expect_error InvalidHomeRegionException west delete-trail --name "$MR_ARN"
expect_error OrganizationsNotInUseException ct create-trail --name org-wide --s3-bucket-name "$BUCKET" --is-organization-trail
expect_error InsufficientSnsTopicPolicyException ct create-trail --name notify --s3-bucket-name "$BUCKET" --sns-topic-name alerts
expect_error InsufficientSnsTopicPolicyException ct update-trail --name "$SR" --sns-topic-name alerts
expect_error InvalidSnsTopicNameException ct update-trail --name "$SR" --sns-topic-name "$(printf 't%.0s' $(seq 1 257))"
expect_error KmsKeyNotFoundException ct create-trail --name secret --s3-bucket-name "$BUCKET" --kms-key-id alias/trail-key
expect_error InvalidParameterCombinationException ct update-trail --name "$MR" --no-include-global-service-events
jeq "$(ct get-trail --name "$MR")" '.Trail|[.S3KeyPrefix,.IncludeGlobalServiceEvents]|map(tostring)|join(" ")' "logs/audit true" \
  "refused updates change nothing"
jeq "$(ct get-trail-status --name "$MR")" '.IsLogging' true "a refused stop-logging changes nothing"
pass "error paths"

# A topic of OpenTrail's SNS, by name and by ARN; an empty name removes it.
TOPIC_ARN=$(root sns create-topic --name alerts --query TopicArn --output text)
jeq "$(ct update-trail --name "$SR" --sns-topic-name alerts)" '.SnsTopicARN' "$TOPIC_ARN" "update-trail --sns-topic-name (name)"
jeq "$(ct get-trail --name "$SR")" '.Trail.SnsTopicARN' "$TOPIC_ARN" "get-trail shows the topic"
jeq "$(ct update-trail --name "$SR" --sns-topic-name "$TOPIC_ARN")" '.SnsTopicName' alerts "update-trail --sns-topic-name (ARN)"
jeq "$(ct update-trail --name "$SR" --sns-topic-name '')" '.SnsTopicARN' null "an empty topic name removes the topic"
pass "SNS topics on trails"

# --- Limits: five trails per region, a multi-region trail counting in every region -------------
for n in extra-1 extra-2 extra-3; do ct create-trail --name "$n" --s3-bucket-name "$BUCKET" >/dev/null; done
expect_error MaximumNumberOfTrailsExceededException ct create-trail --name extra-4 --s3-bucket-name "$BUCKET"
pass "MaximumNumberOfTrailsExceededException for a 6th trail in a region"

# --- Delete ------------------------------------------------------------------------------------
ct delete-trail --name extra-1
ct delete-trail --name "arn:aws:cloudtrail:us-east-1:$ACCOUNT:trail/extra-2"
expect_error TrailNotFoundException ct get-trail --name extra-1
jeq "$(ct list-trails)" '[.Trails[].Name]|sort|join(",")' "$SR,extra-3,$MR" "list-trails after delete-trail"
ct create-trail --name extra-1 --s3-bucket-name "$BUCKET" >/dev/null
jeq "$(ct list-tags --resource-id-list "arn:aws:cloudtrail:us-east-1:$ACCOUNT:trail/extra-1")" '.ResourceTagList[0].TagsList|length' 0 \
  "a deleted trail's name can be reused, with nothing of the old trail"
pass "delete-trail by name and ARN"

# --- Pagination: more than one page (50) of trails across regions ------------------------------
# The fixture trails are made with botocore directly, in one process: 48 CLI calls would take
# most of this script's time budget. Every call below that is checked goes through the CLI.
python3 - "$EP" "$ROOT_AKID" "$ROOT_SECRET" "$BUCKET" <<'PY'
import sys
import botocore.session
ep, akid, secret, bucket = sys.argv[1:]
regions = ["us-east-2", "us-west-1", "us-west-2", "eu-west-1", "eu-west-2", "eu-central-1",
           "ap-south-1", "ap-northeast-1", "ap-southeast-1", "ap-southeast-2", "ca-central-1", "sa-east-1"]
s = botocore.session.get_session()
for r in regions:
    c = s.create_client("cloudtrail", region_name=r, endpoint_url=ep, aws_access_key_id=akid, aws_secret_access_key=secret)
    for i in range(4):  # the multi-region trail is the fifth in each region
        c.create_trail(Name=f"page-{r}-{i}", S3BucketName=bucket)
PY
total=52 # 4 in us-east-1, 4 in each of 12 other regions
page1=$(ct list-trails --no-paginate)
jeq "$page1" '[(.Trails|length),(.NextToken|type)]|map(tostring)|join(" ")' "50 string" "list-trails first page"
page2=$(ct list-trails --no-paginate --next-token "$(jq -r .NextToken <<<"$page1")")
jeq "$page2" '[(.Trails|length),has("NextToken")]|map(tostring)|join(" ")' "$((total - 50)) false" "list-trails second page"
eq "$(jq -s '[.[].Trails[].TrailARN]|unique|length' <<<"$page1$page2")" "$total" "pages hold every trail once"
all=$(ct list-trails)
jeq "$all" '[.Trails[].TrailARN]|unique|length' "$total" "list-trails through the CLI paginator"
jeq "$all" '[.Trails[]|select(.HomeRegion=="eu-west-1")|.Name]|sort|join(",")' "page-eu-west-1-0,page-eu-west-1-1,page-eu-west-1-2,page-eu-west-1-3" \
  "list-trails entries carry their home region"
expect_error InvalidNextTokenException ct list-trails --no-paginate --next-token 'not a token!'
expect_error MaximumNumberOfTrailsExceededException west create-trail --name page-us-west-2-4 --s3-bucket-name "$BUCKET"
expect_error MaximumNumberOfTrailsExceededException ct update-trail --name "$SR" --is-multi-region-trail
pass "list-trails pagination; the multi-region trail counts in every region"

# --- Restart -----------------------------------------------------------------------------------
snapshot() {
  ct describe-trails --trail-name-list "$MR" "$SR" extra-3 --query 'trailList' | jq -cS .
  ct get-event-selectors --trail-name "$MR" | jq -cS .
  ct get-event-selectors --trail-name "$SR" | jq -cS .
  ct get-insight-selectors --trail-name "$MR" | jq -cS .
  ct list-tags --resource-id-list "$MR_ARN" "$SR_ARN" | jq -cS .
  ct get-trail-status --name "$MR" | jq -cS '{IsLogging,StartLoggingTime,StopLoggingTime,TimeLoggingStarted,TimeLoggingStopped}'
  ct list-trails | jq -c '[.Trails[].TrailARN]|sort'
}
before=$(snapshot)
stop_server
start_server
after=$(snapshot)
if [ "$before" != "$after" ]; then
  diff <(echo "$before") <(echo "$after") >&2 || true
  fail "trails changed across a restart"
fi
jeq "$(ct get-trail-status --name "$MR")" '.IsLogging' true "still logging after restart"
pass "restart keeps trails, selectors, Insights selectors, tags and status"

# A NextToken the server never issued must be refused, not read as a position. Known server
# bug (reported): ListTrails accepts any base64url string as a token and silently answers with
# a partial or empty list.
if out=$(ct list-trails --no-paginate --next-token garbage 2>&1); then
  fail "server bug: ListTrails accepted NextToken 'garbage', which it never issued, and answered $(jq -c . <<<"$out"); want InvalidNextTokenException (internal/cloudtrail/trails.go, listTrails)"
fi
echo "$out" | grep -q "(InvalidNextTokenException)" || fail "list-trails with a forged NextToken: want InvalidNextTokenException, got: $out"
pass "list-trails refuses a forged NextToken"
echo "trails.sh: all passed"
