#!/usr/bin/env bash
# Capture and Event History through the aws CLI and `opentrail lookup`: calls of every hosted
# service (allowed, denied, failing) appear in LookupEvents within a second, by every lookup
# attribute, with pagination, and no secret appears in any record.
source "$(dirname "$0")/lib.sh"
start_server

root iam create-user --user-name erin >/dev/null
read -r AKID SECRET < <(root iam create-access-key --user-name erin --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
root iam put-user-policy --user-name erin --policy-name p --policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:GetCallerIdentity","cloudtrail:LookupEvents"],"Resource":"*"}]}'
as "$AKID" "$SECRET" -- sts get-caller-identity >/dev/null
expect_error AccessDenied as "$AKID" "$SECRET" -- iam list-users
expect_error NoSuchEntity root iam get-user --user-name nobody
"$OPENTRAIL_BIN" admin create-bucket --data-dir "$DATA" lookup-bucket >/dev/null
root cloudtrail create-trail --name trail1 --s3-bucket-name lookup-bucket >/dev/null
expect_error TrailNotFoundException root cloudtrail get-trail --name nope
sleep 1

# LookupEvents calls are recorded too (as on AWS); leave them out of the comparisons.
ids() { root cloudtrail lookup-events "$@" --query 'Events[].EventName' --output text | tr '\t' '\n' | grep -v '^LookupEvents$' | sort | tr '\n' ' '; }
eq "$(ids --lookup-attributes AttributeKey=EventName,AttributeValue=CreateUser)" "CreateUser " "by EventName"
eq "$(ids --lookup-attributes AttributeKey=Username,AttributeValue=erin)" "GetCallerIdentity ListUsers " "by Username"
eq "$(ids --lookup-attributes AttributeKey=AccessKeyId,AttributeValue=$AKID)" "GetCallerIdentity ListUsers " "by AccessKeyId"
eq "$(ids --lookup-attributes AttributeKey=EventSource,AttributeValue=cloudtrail.amazonaws.com)" "CreateTrail GetTrail " "by EventSource"
eq "$(ids --lookup-attributes AttributeKey=ResourceType,AttributeValue=AWS::CloudTrail::Trail)" "CreateTrail GetTrail " "by ResourceType"
ro=$(root cloudtrail lookup-events --lookup-attributes AttributeKey=ReadOnly,AttributeValue=true --query 'Events[].ReadOnly' --output text | tr '\t' '\n' | sort -u)
eq "$ro" "true" "by ReadOnly"
eid=$(root cloudtrail lookup-events --lookup-attributes AttributeKey=EventName,AttributeValue=ListUsers --query 'Events[0].EventId' --output text)
eq "$(ids --lookup-attributes AttributeKey=EventId,AttributeValue=$eid)" "ListUsers " "by EventId"
code=$(root cloudtrail lookup-events --lookup-attributes AttributeKey=EventId,AttributeValue=$eid --query 'Events[0].CloudTrailEvent' --output text | jq -r .errorCode)
eq "$code" "AccessDenied" "denied call's errorCode"
pass "lookup attributes"

# Pagination: the CLI pages with a page size of 2 and sees every event exactly once.
n_all=$(root cloudtrail lookup-events --query 'length(Events)' --output text)
n_paged=$(root cloudtrail lookup-events --page-size 2 --query 'Events[].EventId' --output text | tr '\t' '\n' | sort -u | wc -l)
[ "$n_paged" -ge "$n_all" ] || fail "paged $n_paged of $n_all"
pass "pagination ($n_paged events)"

# No secret in any record.
root cloudtrail lookup-events --query 'Events[].CloudTrailEvent' --output text > "$WORK/records.txt"
grep -q "$SECRET" "$WORK/records.txt" && fail "secret access key in a record"
grep -q "$ROOT_SECRET" "$WORK/records.txt" && fail "root secret in a record"
pass "no secret in records"

# opentrail lookup, table and JSON.
export AWS_ACCESS_KEY_ID=$ROOT_AKID AWS_SECRET_ACCESS_KEY=$ROOT_SECRET
"$OPENTRAIL_BIN" lookup --endpoint-url "$EP" --since 15m --attribute EventName=CreateTrail > "$WORK/table.txt"
grep -q CreateTrail "$WORK/table.txt" || fail "opentrail lookup table: $(cat "$WORK/table.txt")"
n=$("$OPENTRAIL_BIN" lookup --endpoint-url "$EP" --since 15m --output json | jq '.Events | length')
[ "$n" -ge "$n_all" ] || fail "opentrail lookup json: $n events, want >= $n_all"
pass "opentrail lookup"
echo "lookup.sh: all passed"
