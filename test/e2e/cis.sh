#!/usr/bin/env bash
# The CIS AWS Foundations monitoring set (controls 4.1-4.15 of CIS v1.4.0-v3.0.0) end to end
# through the aws CLI: a multi-region trail that forwards to a CloudWatch Logs group through an
# IAM role, the 15 metric filters with their exact published patterns, one alarm each (Sum,
# threshold 1, >=, 1 evaluation period; the period shortened from 300 s to 60 s for the
# test) whose action is an SNS topic with a confirmed HTTP subscriber. Then calls that trip
# some controls (root usage, an IAM policy change, a CloudTrail configuration change, an
# unauthorized call, and a console authentication failure record put into the log group) and
# calls that trip none of the others; the subscriber must receive signed ALARM notifications for
# exactly the expected alarms.
source "$(dirname "$0")/lib.sh"
deadline 300
RECV_PID=""
trap 'kill "${DEADLINE_PID:-}" "${RECV_PID:-}" 2>/dev/null || true; cleanup' EXIT
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND exited with status $?" >&2' ERR
if command -v pyenv >/dev/null 2>&1 && real_aws=$(pyenv which aws 2>/dev/null); then
  PATH="$(dirname "$real_aws"):$PATH"
fi
# Metric filters emit standard-resolution (1-minute) data points, as on AWS, so the shortest
# period that sees them reliably is 60 s.
PERIOD=${CIS_PERIOD:-60}

start_server --regions us-east-1,us-west-2 --delivery-interval 1s

GROUP=CIS-trail
GROUP_ARN="arn:aws:logs:us-east-1:$ACCOUNT:log-group:$GROUP:*"
ROLE=CloudTrail_CloudWatchLogs_Role
ROLE_ARN="arn:aws:iam::$ACCOUNT:role/$ROLE"

# --- The HTTP subscriber: every POST is saved as $RECV/<n>.json ----------------------------------
RECV="$WORK/recv"
mkdir -p "$RECV"
RPORT=$(free_port)
python3 - "$RPORT" "$RECV" >>"$WORK/recv.log" 2>&1 <<'PY' &
import http.server, os, sys
port, out = int(sys.argv[1]), sys.argv[2]
class H(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        n = len([f for f in os.listdir(out) if f.endswith(".json")]) + 1
        with open(os.path.join(out, "%d.tmp" % n), "wb") as f:
            f.write(body)
        os.rename(os.path.join(out, "%d.tmp" % n), os.path.join(out, "%d.json" % n))
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
RECV_PID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$RPORT/" && break; sleep 0.05; done

# verify_sig FILE: the SNS signature (SignatureVersion 2) checked with openssl.
verify_sig() {
  local body cert_url
  body=$(cat "$1")
  cert_url=$(jq -r .SigningCertURL <<<"$body")
  curl -fsS "$cert_url" -o "$WORK/cert.pem" || fail "GET $cert_url"
  openssl x509 -in "$WORK/cert.pem" -pubkey -noout >"$WORK/pub.pem"
  jq -j '"Message\n\(.Message)\nMessageId\n\(.MessageId)\n" + (if has("Subject") then "Subject\n\(.Subject)\n" else "" end) +
      "Timestamp\n\(.Timestamp)\nTopicArn\n\(.TopicArn)\nType\n\(.Type)\n"' <<<"$body" >"$WORK/sts.txt"
  jq -r .Signature <<<"$body" | base64 -d >"$WORK/sig.bin"
  openssl dgst -sha256 -verify "$WORK/pub.pem" -signature "$WORK/sig.bin" "$WORK/sts.txt" >/dev/null ||
    fail "signature of notification $1 does not verify"
}

# --- Set-up, all before logging starts, so that none of it is forwarded -----------------------
root iam create-role --role-name "$ROLE" --assume-role-policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"cloudtrail.amazonaws.com"},"Action":"sts:AssumeRole"}]}' >/dev/null
root iam put-role-policy --role-name "$ROLE" --policy-name cloudtrail-to-logs --policy-document \
  "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Sid\":\"AWSCloudTrailCreateLogStream2014110\",\"Effect\":\"Allow\",\"Action\":[\"logs:CreateLogStream\"],\"Resource\":[\"arn:aws:logs:us-east-1:$ACCOUNT:log-group:$GROUP:log-stream:${ACCOUNT}_CloudTrail_us-east-1*\"]},{\"Sid\":\"AWSCloudTrailPutLogEvents20141101\",\"Effect\":\"Allow\",\"Action\":[\"logs:PutLogEvents\"],\"Resource\":[\"arn:aws:logs:us-east-1:$ACCOUNT:log-group:$GROUP:log-stream:${ACCOUNT}_CloudTrail_us-east-1*\"]}]}"
root logs create-log-group --log-group-name "$GROUP"
"$OPENTRAIL_BIN" admin create-bucket --data-dir "$DATA" cis-logs >/dev/null

# A role CloudTrail may not assume is refused, as AWS refuses it.
root iam create-role --role-name NotForCloudTrail --assume-role-policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Service":"ec2.amazonaws.com"},"Action":"sts:AssumeRole"}]}' >/dev/null
expect_error InvalidCloudWatchLogsRoleArnException root cloudtrail create-trail --name cis --s3-bucket-name cis-logs \
  --cloud-watch-logs-log-group-arn "$GROUP_ARN" --cloud-watch-logs-role-arn "arn:aws:iam::$ACCOUNT:role/NotForCloudTrail"
expect_error InvalidCloudWatchLogsLogGroupArnException root cloudtrail create-trail --name cis --s3-bucket-name cis-logs \
  --cloud-watch-logs-log-group-arn "arn:aws:logs:us-east-1:$ACCOUNT:log-group:no-such-group:*" --cloud-watch-logs-role-arn "$ROLE_ARN"
TRAIL=$(root cloudtrail create-trail --name cis --s3-bucket-name cis-logs --is-multi-region-trail \
  --cloud-watch-logs-log-group-arn "$GROUP_ARN" --cloud-watch-logs-role-arn "$ROLE_ARN")
jeq "$TRAIL" .CloudWatchLogsLogGroupArn "$GROUP_ARN" "create-trail with a log group"
pass "a multi-region trail to a log group through an IAM role"

TOPIC_ARN=$(root sns create-topic --name cis-alarms --query TopicArn --output text)
root sns subscribe --topic-arn "$TOPIC_ARN" --protocol http --notification-endpoint "http://127.0.0.1:$RPORT/" >/dev/null
for _ in $(seq 1 200); do [ -f "$RECV/1.json" ] && break; sleep 0.05; done
[ -f "$RECV/1.json" ] || fail "no SubscriptionConfirmation"
eq "$(jq -r .Type "$RECV/1.json")" SubscriptionConfirmation "first message"
curl -fsS -o /dev/null "$(jq -r .SubscribeURL "$RECV/1.json")" || fail "confirming through SubscribeURL"
pass "an SNS topic with a confirmed HTTP subscriber"

# The 15 controls, patterns exactly as CIS v1.4.0-v3.0.0 publish them.
declare -A PATTERN=(
  [4.1]='{ ($.errorCode = "*UnauthorizedOperation") || ($.errorCode = "AccessDenied*") || ($.sourceIPAddress!="delivery.logs.amazonaws.com") || ($.eventName!="HeadBucket") }'
  [4.2]='{ ($.eventName = "ConsoleLogin") && ($.additionalEventData.MFAUsed != "Yes") }'
  [4.3]='{ $.userIdentity.type = "Root" && $.userIdentity.invokedBy NOT EXISTS && $.eventType != "AwsServiceEvent" }'
  [4.4]='{($.eventName=DeleteGroupPolicy)||($.eventName=DeleteRolePolicy)||($.eventName=DeleteUserPolicy)||($.eventName=PutGroupPolicy)||($.eventName=PutRolePolicy)||($.eventName=PutUserPolicy)||($.eventName=CreatePolicy)||($.eventName=DeletePolicy)||($.eventName=CreatePolicyVersion)||($.eventName=DeletePolicyVersion)||($.eventName=AttachRolePolicy)||($.eventName=DetachRolePolicy)||($.eventName=AttachUserPolicy)||($.eventName=DetachUserPolicy)||($.eventName=AttachGroupPolicy)||($.eventName=DetachGroupPolicy)}'
  [4.5]='{ ($.eventName = CreateTrail) || ($.eventName = UpdateTrail) || ($.eventName = DeleteTrail) || ($.eventName = StartLogging) || ($.eventName = StopLogging) }'
  [4.6]='{ ($.eventName = ConsoleLogin) && ($.errorMessage = "Failed authentication") }'
  [4.7]='{($.eventSource = kms.amazonaws.com) && (($.eventName=DisableKey)||($.eventName=ScheduleKeyDeletion)) }'
  [4.8]='{ ($.eventSource = s3.amazonaws.com) && (($.eventName = PutBucketAcl) || ($.eventName = PutBucketPolicy) || ($.eventName = PutBucketCors) || ($.eventName = PutBucketLifecycle) || ($.eventName = PutBucketReplication) || ($.eventName = DeleteBucketPolicy) || ($.eventName = DeleteBucketCors) || ($.eventName = DeleteBucketLifecycle) || ($.eventName = DeleteBucketReplication)) }'
  [4.9]='{ ($.eventSource = config.amazonaws.com) && (($.eventName=StopConfigurationRecorder)||($.eventName=DeleteDeliveryChannel)||($.eventName=PutDeliveryChannel)||($.eventName=PutConfigurationRecorder)) }'
  [4.10]='{ ($.eventName = AuthorizeSecurityGroupIngress) || ($.eventName = AuthorizeSecurityGroupEgress) || ($.eventName = RevokeSecurityGroupIngress) || ($.eventName = RevokeSecurityGroupEgress) || ($.eventName = CreateSecurityGroup) || ($.eventName = DeleteSecurityGroup) }'
  [4.11]='{ ($.eventName = CreateNetworkAcl) || ($.eventName = CreateNetworkAclEntry) || ($.eventName = DeleteNetworkAcl) || ($.eventName = DeleteNetworkAclEntry) || ($.eventName = ReplaceNetworkAclEntry) || ($.eventName = ReplaceNetworkAclAssociation) }'
  [4.12]='{ ($.eventName = CreateCustomerGateway) || ($.eventName = DeleteCustomerGateway) || ($.eventName = AttachInternetGateway) || ($.eventName = CreateInternetGateway) || ($.eventName = DeleteInternetGateway) || ($.eventName = DetachInternetGateway) }'
  [4.13]='{ ($.eventName = CreateRoute) || ($.eventName = CreateRouteTable) || ($.eventName = ReplaceRoute) || ($.eventName = ReplaceRouteTableAssociation) || ($.eventName = DeleteRouteTable) || ($.eventName = DeleteRoute) || ($.eventName = DisassociateRouteTable) }'
  [4.14]='{ ($.eventName = CreateVpc) || ($.eventName = DeleteVpc) || ($.eventName = ModifyVpcAttribute) || ($.eventName = AcceptVpcPeeringConnection) || ($.eventName = CreateVpcPeeringConnection) || ($.eventName = DeleteVpcPeeringConnection) || ($.eventName = RejectVpcPeeringConnection) || ($.eventName = AttachClassicLinkVpc) || ($.eventName = DetachClassicLinkVpc) || ($.eventName = DisableVpcClassicLink) || ($.eventName = EnableVpcClassicLink) }'
  [4.15]='{ ($.eventSource = organizations.amazonaws.com) && (($.eventName = "AcceptHandshake") || ($.eventName = "AttachPolicy") || ($.eventName = "CreateAccount") || ($.eventName = "CreateOrganizationalUnit") || ($.eventName = "CreatePolicy") || ($.eventName = "DeclineHandshake") || ($.eventName = "DeleteOrganization") || ($.eventName = "DeleteOrganizationalUnit") || ($.eventName = "DeletePolicy") || ($.eventName = "DetachPolicy") || ($.eventName = "DisablePolicyType") || ($.eventName = "EnablePolicyType") || ($.eventName = "InviteAccountToOrganization") || ($.eventName = "LeaveOrganization") || ($.eventName = "MoveAccount") || ($.eventName = "RemoveAccountFromOrganization") || ($.eventName = "UpdatePolicy") || ($.eventName = "UpdateOrganizationalUnit")) }'
)
for c in 4.1 4.2 4.3 4.4 4.5 4.6 4.7 4.8 4.9 4.10 4.11 4.12 4.13 4.14 4.15; do
  root logs put-metric-filter --log-group-name "$GROUP" --filter-name "CIS-$c" --filter-pattern "${PATTERN[$c]}" \
    --metric-transformations "metricName=CIS-$c,metricNamespace=CISBenchmark,metricValue=1"
  root cloudwatch put-metric-alarm --alarm-name "CIS-$c" --metric-name "CIS-$c" --namespace CISBenchmark \
    --statistic Sum --period "$PERIOD" --threshold 1 --comparison-operator GreaterThanOrEqualToThreshold \
    --evaluation-periods 1 --alarm-actions "$TOPIC_ARN"
done
eq "$(root logs describe-metric-filters --log-group-name "$GROUP" --query 'length(metricFilters)')" 15 "metric filters"
eq "$(root logs describe-metric-filters --log-group-name "$GROUP" --filter-name-prefix CIS-4.3 --query 'metricFilters[0].filterPattern' --output text)" \
  "${PATTERN[4.3]}" "a pattern is stored exactly as given"
eq "$(root cloudwatch describe-alarms --alarm-name-prefix CIS- --query 'length(MetricAlarms)')" 15 "alarms"
pass "15 CIS metric filters and alarms"

# A user allowed to read trails only.
root iam create-user --user-name auditor >/dev/null
root iam put-user-policy --user-name auditor --policy-name read-trails --policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["cloudtrail:DescribeTrails","cloudtrail:GetTrailStatus"],"Resource":"*"}]}'
read -r AKID SECRET < <(root iam create-access-key --user-name auditor --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
auditor() { as "$AKID" "$SECRET" -- "$@"; }
root logs create-log-stream --log-group-name "$GROUP" --log-stream-name console-import

# --- The calls ----------------------------------------------------------------------------------
root cloudtrail start-logging --name cis                     # 4.5 CloudTrail change, 4.3 root
root iam put-user-policy --user-name auditor --policy-name extra --policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}'   # 4.4
expect_error AccessDenied auditor iam list-users              # an unauthorized call (4.1)
auditor cloudtrail describe-trails >/dev/null                 # allowed; matches only 4.1 (as written)
auditor --region us-west-2 cloudtrail get-trail-status --name "arn:aws:cloudtrail:us-east-1:$ACCOUNT:trail/cis" >/dev/null
# A failed console sign-in as CloudTrail records it, put into the group the way a trail's
# records arrive (OpenTrail has no console; this is the record 4.6 exists for).
NOW_MS=$(($(date +%s) * 1000))
NOW_ISO=$(date -u +%Y-%m-%dT%H:%M:%SZ)
RECORD=$(jq -cn --arg t "$NOW_ISO" --arg a "$ACCOUNT" '{eventVersion:"1.08",userIdentity:{type:"IAMUser",principalId:"AIDAEXAMPLE",accountId:$a,accessKeyId:"",userName:"alice"},eventTime:$t,eventSource:"signin.amazonaws.com",eventName:"ConsoleLogin",awsRegion:"us-east-1",sourceIPAddress:"203.0.113.5",userAgent:"Mozilla/5.0",errorMessage:"Failed authentication",requestParameters:null,responseElements:{ConsoleLogin:"Failure"},additionalEventData:{LoginTo:"https://console.aws.amazon.com/console/home",MobileVersion:"No",MFAUsed:"Yes"},eventID:"4b6e2a7c-0000-4000-8000-000000000001",readOnly:false,eventType:"AwsConsoleSignIn",managementEvent:true,recipientAccountId:$a,eventCategory:"Management"}')
jq -n --argjson ts "$NOW_MS" --arg m "$RECORD" '[{timestamp:$ts,message:$m}]' >"$WORK/console.json"
root logs put-log-events --log-group-name "$GROUP" --log-stream-name console-import --log-events "file://$WORK/console.json" >/dev/null
pass "calls made"

# The forwarded records are in the group, in the per-region streams.
for _ in $(seq 1 100); do
  n=$(root logs filter-log-events --log-group-name "$GROUP" --filter-pattern '{ $.eventName = "PutUserPolicy" }' --query 'length(events)')
  [ "$n" -ge 1 ] && break
  sleep 0.1
done
eq "$n" 1 "PutUserPolicy forwarded to the log group once"
root logs describe-log-streams --log-group-name "$GROUP" --query 'logStreams[].logStreamName' --output text | tr '\t' '\n' | sort >"$WORK/streams"
grep -qx "${ACCOUNT}_CloudTrail_us-east-1" "$WORK/streams" || fail "no stream ${ACCOUNT}_CloudTrail_us-east-1: $(cat "$WORK/streams")"
grep -qx "${ACCOUNT}_CloudTrail_us-west-2" "$WORK/streams" || fail "no stream ${ACCOUNT}_CloudTrail_us-west-2 (multi-region): $(cat "$WORK/streams")"
pass "records forwarded to per-region streams"

# --- The notifications ----------------------------------------------------------------------------
EXPECTED="CIS-4.1 CIS-4.3 CIS-4.4 CIS-4.5 CIS-4.6"
alarmed() {
  for f in "$RECV"/*.json; do
    [ "$(jq -r .Type "$f")" = Notification ] || continue
    jq -r '.Message | fromjson | select(.NewStateValue == "ALARM") | .AlarmName' "$f"
  done | sort -u | tr '\n' ' ' | sed 's/ $//'
}
WAIT_UNTIL=$((SECONDS + 2 * PERIOD + 30))
while [ "$(alarmed)" != "$EXPECTED" ] && [ $SECONDS -lt $WAIT_UNTIL ]; do
  sleep 1
done
[ "$(alarmed)" = "$EXPECTED" ] || root cloudwatch describe-alarms --alarm-name-prefix CIS- \
  --query 'MetricAlarms[].[AlarmName,StateValue,StateReason]' --output text >&2
# Stray notifications would come with the same evaluation; give them a moment.
sleep 5
eq "$(alarmed)" "$EXPECTED" "alarms notified"
for f in "$RECV"/*.json; do
  [ "$(jq -r .Type "$f")" = Notification ] || continue
  verify_sig "$f"
  msg=$(jq -r .Message "$f")
  name=$(jq -r .AlarmName <<<"$msg")
  eq "$(jq -r .Subject "$f")" "ALARM: \"$name\" in US East (N. Virginia)" "subject of $name"
  eq "$(jq -r '.Trigger.Namespace + " " + .Trigger.MetricName + " " + .Trigger.ComparisonOperator' <<<"$msg")" \
    "CISBenchmark $name GreaterThanOrEqualToThreshold" "trigger of $name"
done
for c in 4.2 4.7 4.8 4.9 4.10 4.11 4.12 4.13 4.14 4.15; do
  n=$(root cloudwatch describe-alarm-history --alarm-name "CIS-$c" --history-item-type StateUpdate \
    --query "length(AlarmHistoryItems[?contains(HistorySummary, 'to ALARM')])")
  eq "$n" 0 "CIS-$c never went to ALARM"
done
pass "signed ALARM notifications for exactly $EXPECTED"
echo "cis.sh: all passed"
