#!/usr/bin/env bash
# SNS through the aws CLI: topics (create, idempotent create, attributes, list with the CLI's
# paging, delete), an HTTP subscriber (a small Python server) that receives the
# SubscriptionConfirmation, confirms through the SubscribeURL with curl, and receives a
# notification whose SignatureVersion 2 signature is checked with openssl against the
# certificate fetched from SigningCertURL; subscription attributes; the error paths with their
# exact codes; a user without SNS permissions; unsupported operations; and a restart that keeps
# topics, subscriptions and the signing certificate.
source "$(dirname "$0")/lib.sh"
deadline 100
RECV_PID=""
trap 'kill "${DEADLINE_PID:-}" "${RECV_PID:-}" 2>/dev/null || true; cleanup' EXIT
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND exited with status $?" >&2' ERR
if command -v pyenv >/dev/null 2>&1 && real_aws=$(pyenv which aws 2>/dev/null); then
  PATH="$(dirname "$real_aws"):$PATH"
fi

start_server

sns() { root sns "$@"; }
TOPIC=ops-alerts
ARN="arn:aws:sns:us-east-1:$ACCOUNT:$TOPIC"

# An HTTP subscriber: every POST is saved as $RECV/<n>.json (body) and <n>.hdr (headers).
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
        with open(os.path.join(out, "%d.hdr" % n), "w") as f:
            f.write("".join("%s: %s\n" % (k.lower(), v) for k, v in self.headers.items()))
        with open(os.path.join(out, "%d.tmp" % n), "wb") as f:
            f.write(body)
        os.rename(os.path.join(out, "%d.tmp" % n), os.path.join(out, "%d.json" % n))
        self.send_response(200); self.end_headers()
    def log_message(self, *a): pass
http.server.HTTPServer(("127.0.0.1", port), H).serve_forever()
PY
RECV_PID=$!
for _ in $(seq 1 100); do curl -s -o /dev/null "http://127.0.0.1:$RPORT/" && break; sleep 0.05; done

# wait_msg N: wait for the subscriber's Nth message and print its body.
wait_msg() {
  for _ in $(seq 1 200); do
    [ -f "$RECV/$1.json" ] && { cat "$RECV/$1.json"; return 0; }
    sleep 0.05
  done
  fail "the subscriber received no message #$1"
}
header() { grep -i "^$2: " "$RECV/$1.hdr" | head -1 | cut -d' ' -f2- | tr -d '\r'; }

# verify_sig BODY: check the message's signature with openssl, independently of OpenTrail's
# code: the string to sign is rebuilt from AWS's documented rules.
verify_sig() {
  local body=$1 cert_url
  cert_url=$(jq -r .SigningCertURL <<<"$body")
  [[ $cert_url == "$EP/sns/SimpleNotificationService-"*.pem ]] || fail "SigningCertURL $cert_url"
  curl -fsS "$cert_url" -o "$WORK/cert.pem" || fail "GET $cert_url"
  openssl x509 -in "$WORK/cert.pem" -pubkey -noout >"$WORK/pub.pem"
  jq -j 'if .Type == "Notification" then
      "Message\n\(.Message)\nMessageId\n\(.MessageId)\n" + (if has("Subject") then "Subject\n\(.Subject)\n" else "" end) +
      "Timestamp\n\(.Timestamp)\nTopicArn\n\(.TopicArn)\nType\n\(.Type)\n"
    else
      "Message\n\(.Message)\nMessageId\n\(.MessageId)\nSubscribeURL\n\(.SubscribeURL)\nTimestamp\n\(.Timestamp)\nToken\n\(.Token)\nTopicArn\n\(.TopicArn)\nType\n\(.Type)\n"
    end' <<<"$body" >"$WORK/sts.txt"
  jq -r .Signature <<<"$body" | base64 -d >"$WORK/sig.bin"
  eq "$(jq -r .SignatureVersion <<<"$body")" 2 "SignatureVersion"
  openssl dgst -sha256 -verify "$WORK/pub.pem" -signature "$WORK/sig.bin" "$WORK/sts.txt" >/dev/null ||
    fail "signature of the $(jq -r .Type <<<"$body") message does not verify"
}

# --- Topics ------------------------------------------------------------------------------------
jeq "$(sns create-topic --name "$TOPIC" --attributes DisplayName=Ops)" .TopicArn "$ARN" "create-topic"
jeq "$(sns create-topic --name "$TOPIC" --attributes DisplayName=Ops)" .TopicArn "$ARN" "create-topic again (idempotent)"
expect_error InvalidParameter sns create-topic --name "$TOPIC" --attributes DisplayName=Other
for n in t1 t2 t3; do sns create-topic --name "$n" >/dev/null; done
jeq "$(sns list-topics)" '[.Topics[].TopicArn|split(":")[5]]|join(",")' "$TOPIC,t1,t2,t3" "list-topics"
out=$(sns list-topics --max-items 2)
jeq "$out" '.Topics|length' 2 "list-topics --max-items 2"
tok=$(jq -r .NextToken <<<"$out")
jeq "$(sns list-topics --starting-token "$tok")" '[.Topics[].TopicArn|split(":")[5]]|join(",")' "t2,t3" "list-topics --starting-token"
jeq "$(root --region us-west-2 sns list-topics)" '.Topics|length' 0 "topics are per region"
out=$(sns get-topic-attributes --topic-arn "$ARN")
jeq "$out" '.Attributes|[.TopicArn,.Owner,.DisplayName,.SubscriptionsConfirmed,.SignatureVersion]|join(" ")' "$ARN $ACCOUNT Ops 0 2" "get-topic-attributes"
jeq "$out" '.Attributes.EffectiveDeliveryPolicy|fromjson|.http.defaultHealthyRetryPolicy|[.numRetries,.minDelayTarget]|join(" ")' "3 20" \
  "the default HTTP delivery policy is AWS's: 3 retries, 20 s apart"
sns set-topic-attributes --topic-arn "$ARN" --attribute-name DisplayName --attribute-value "Ops Alerts"
jeq "$(sns get-topic-attributes --topic-arn "$ARN")" .Attributes.DisplayName "Ops Alerts" "set-topic-attributes"
for n in t1 t2 t3; do sns delete-topic --topic-arn "arn:aws:sns:us-east-1:$ACCOUNT:$n"; done
sns delete-topic --topic-arn "arn:aws:sns:us-east-1:$ACCOUNT:t1" # deleting twice is no error, as in AWS
pass "topics: create, attributes, list, per-region, delete"

# --- Subscribe, confirm through the SubscribeURL, publish ---------------------------------------
jeq "$(sns subscribe --topic-arn "$ARN" --protocol http --notification-endpoint "http://127.0.0.1:$RPORT/hook")" \
  .SubscriptionArn "pending confirmation" "subscribe answers pending confirmation"
conf=$(wait_msg 1)
jeq "$conf" '[.Type,.TopicArn]|join(" ")' "SubscriptionConfirmation $ARN" "SubscriptionConfirmation body"
eq "$(header 1 x-amz-sns-message-type)" SubscriptionConfirmation "x-amz-sns-message-type"
eq "$(header 1 content-type)" "text/plain; charset=UTF-8" "Content-Type"
verify_sig "$conf"
jeq "$(sns list-subscriptions-by-topic --topic-arn "$ARN")" '.Subscriptions[0].SubscriptionArn' PendingConfirmation "pending subscription listed"
resp=$(curl -fsS "$(jq -r .SubscribeURL <<<"$conf")")
SUB=$(sed -n 's:.*<SubscriptionArn>\(.*\)</SubscriptionArn>.*:\1:p' <<<"$resp")
[[ $SUB == "$ARN:"* ]] || fail "confirmation link answered: $resp"
jeq "$(sns list-subscriptions)" '.Subscriptions|map(.SubscriptionArn)|join(",")' "$SUB" "list-subscriptions"
out=$(sns get-subscription-attributes --subscription-arn "$SUB")
jeq "$out" '.Attributes|[.PendingConfirmation,.ConfirmationWasAuthenticated,.Protocol,.Endpoint]|join(" ")' \
  "false false http http://127.0.0.1:$RPORT/hook" "get-subscription-attributes"
pass "subscribe, signed SubscriptionConfirmation, confirm through the SubscribeURL"

mid=$(sns publish --topic-arn "$ARN" --subject "Disk alarm" --message 'disk 97% full on "db-1"' \
  --message-attributes '{"severity":{"DataType":"String","StringValue":"high"}}' --query MessageId --output text)
note=$(wait_msg 2)
jeq "$note" '[.Type,.MessageId,.Subject,.Message,.MessageAttributes.severity.Value]|join("|")' \
  "Notification|$mid|Disk alarm|disk 97% full on \"db-1\"|high" "Notification body"
eq "$(header 2 x-amz-sns-subscription-arn)" "$SUB" "x-amz-sns-subscription-arn"
eq "$(header 2 x-amz-sns-message-id)" "$mid" "x-amz-sns-message-id"
verify_sig "$note"
pass "publish: signed Notification with AWS's headers (openssl verifies SHA256withRSA)"

# --- Errors ------------------------------------------------------------------------------------
expect_error NotFound sns get-topic-attributes --topic-arn "$ARN-missing"
expect_error NotFound sns publish --topic-arn "$ARN-missing" --message m
expect_error InvalidParameter sns get-topic-attributes --topic-arn not-an-arn
expect_error InvalidParameter sns create-topic --name "bad name"
expect_error InvalidParameter sns create-topic --name fifo.fifo
expect_error InvalidParameter sns subscribe --topic-arn "$ARN" --protocol email --notification-endpoint a@example.com
expect_error InvalidParameter sns subscribe --topic-arn "$ARN" --protocol http --notification-endpoint https://example.com/
expect_error InvalidParameter sns publish --topic-arn "$ARN" --message m --subject "$(printf 'two\nlines')"
expect_error ParameterValueInvalid sns publish --topic-arn "$ARN" --message m --message-attributes '{"n":{"DataType":"Number","StringValue":"x"}}'
expect_error InvalidParameter sns confirm-subscription --topic-arn "$ARN" --token nope
expect_error UnsupportedOperation sns create-platform-application --name p --platform GCM --attributes PlatformCredential=x
root iam create-user --user-name nobody >/dev/null
read -r NAKID NSECRET < <(root iam create-access-key --user-name nobody --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
expect_error AuthorizationError as "$NAKID" "$NSECRET" -- sns list-topics
expect_error AuthorizationError as "$NAKID" "$NSECRET" -- sns publish --topic-arn "$ARN" --message m
pass "errors: NotFound, InvalidParameter, ParameterValueInvalid, AuthorizationError, UnsupportedOperation"

# --- Restart -----------------------------------------------------------------------------------
cert_before=$(jq -r .SigningCertURL <<<"$note")
stop_server
start_server
jeq "$(sns get-topic-attributes --topic-arn "$ARN")" '.Attributes|[.DisplayName,.SubscriptionsConfirmed]|join(" ")' "Ops Alerts 1" \
  "topic and subscription after restart"
sns publish --topic-arn "$ARN" --message "after restart" >/dev/null
note=$(wait_msg 3)
jeq "$note" .Message "after restart" "delivery after restart"
eq "$(jq -r .SigningCertURL <<<"$note")" "$cert_before" "signing certificate after restart"
verify_sig "$note"
pass "restart keeps topics, subscriptions and the signing key"

# --- Unsubscribe -------------------------------------------------------------------------------
sns unsubscribe --subscription-arn "$SUB"
expect_error NotFound sns unsubscribe --subscription-arn "$SUB"
jeq "$(sns list-subscriptions)" '.Subscriptions|length' 0 "no subscriptions after unsubscribe"
jeq "$(sns get-topic-attributes --topic-arn "$ARN")" .Attributes.SubscriptionsDeleted 1 "SubscriptionsDeleted"
sns publish --topic-arn "$ARN" --message "to nobody" >/dev/null
sleep 0.3
[ ! -f "$RECV/4.json" ] || fail "delivered after unsubscribe: $(cat "$RECV/4.json")"
sns delete-topic --topic-arn "$ARN"
jeq "$(sns list-topics)" '.Topics|length' 0 "no topics left"
pass "unsubscribe, delete-topic"
echo "sns.sh: all passed"
