#!/usr/bin/env bash
# The S3 audit gateway through the aws CLI (`aws s3` and `aws s3api`), in front-door mode in
# front of a real versitygw: cp up and down (single and multipart), ls, presigned GET, a
# denied user, put-bucket-policy, rm. Objects read back through the gateway and directly
# from versitygw must be identical to what was sent, and every request must arrive as the
# right CloudTrail record in a trail with S3 data-event selectors.
source "$(dirname "$0")/lib.sh"
deadline 170
trap 'kill "${DEADLINE_PID:-}" 2>/dev/null || true; [ -n "${VGW_PID:-}" ] && kill "$VGW_PID" 2>/dev/null; cleanup' EXIT
trap 'echo "FAIL: line $LINENO: $BASH_COMMAND exited with status $?" >&2' ERR
if command -v pyenv >/dev/null 2>&1 && real_aws=$(pyenv which aws 2>/dev/null); then
  PATH="$(dirname "$real_aws"):$PATH"
fi

VGW_BIN=${OPENTRAIL_VERSITYGW:-$ROOT_DIR/.tools/bin/versitygw}
[ -x "$VGW_BIN" ] || VGW_BIN=$(command -v versitygw) || fail "versitygw not found: run scripts/setup"
VGW_PORT=$(free_port)
VGW="http://127.0.0.1:$VGW_PORT"
VGW_KEY=OTS3GATEWAYSCRIPT001
VGW_SECRET=gateway-script-backend-secret-0123456789
mkdir -p "$WORK/vgw"
env -u ROOT_ACCESS_KEY -u ROOT_SECRET_KEY ROOT_ACCESS_KEY=$VGW_KEY ROOT_SECRET_KEY=$VGW_SECRET \
  "$VGW_BIN" --port "127.0.0.1:$VGW_PORT" --quiet --keep-alive posix "$WORK/vgw" >"$WORK/vgw.log" 2>&1 &
VGW_PID=$!
for _ in $(seq 1 300); do
  curl -s -o /dev/null "$VGW/" && break
  sleep 0.05
done
direct() { AWS_ACCESS_KEY_ID=$VGW_KEY AWS_SECRET_ACCESS_KEY=$VGW_SECRET aws --endpoint-url "$VGW" "$@"; }
direct s3api create-bucket --bucket data >/dev/null

GW_PORT=$(free_port)
GW="http://127.0.0.1:$GW_PORT"
OPENTRAIL_GATEWAY_BACKEND_SECRET_ACCESS_KEY=$VGW_SECRET start_server --delivery-interval 1s \
  --gateway-listen "127.0.0.1:$GW_PORT" --gateway-backend "$VGW" --gateway-mode front-door \
  --gateway-backend-access-key-id "$VGW_KEY"
gw() { as "$ROOT_AKID" "$ROOT_SECRET" -- --endpoint-url "$GW" "$@"; }

"$OPENTRAIL_BIN" admin create-bucket --data-dir "$DATA" trail-data >/dev/null
root cloudtrail create-trail --name data --s3-bucket-name trail-data >/dev/null
root cloudtrail put-event-selectors --trail-name data --event-selectors \
  '[{"ReadWriteType":"All","IncludeManagementEvents":true,"DataResources":[{"Type":"AWS::S3::Object","Values":["arn:aws:s3:::data/"]}]}]' >/dev/null
root cloudtrail start-logging --name data
pass "trail with S3 data-event selectors"

# cp up and down: a small file and one large enough for multipart (the CLI splits at 8 MiB).
head -c 1000 /dev/urandom >"$WORK/small.bin"
head -c $((20 << 20)) /dev/urandom >"$WORK/big.bin"
gw s3 cp "$WORK/small.bin" s3://data/small.bin >/dev/null
gw s3 cp "$WORK/big.bin" s3://data/big.bin >/dev/null
gw s3 cp s3://data/big.bin "$WORK/big.back" >/dev/null
cmp -s "$WORK/big.bin" "$WORK/big.back" || fail "big.bin read back through the gateway differs"
direct s3 cp s3://data/big.bin "$WORK/big.direct" >/dev/null
cmp -s "$WORK/big.bin" "$WORK/big.direct" || fail "big.bin on versitygw differs"
direct s3 cp s3://data/small.bin "$WORK/small.direct" >/dev/null
cmp -s "$WORK/small.bin" "$WORK/small.direct" || fail "small.bin on versitygw differs"
pass "aws s3 cp through the gateway: bytes identical (single and multipart)"

ls_out=$(gw s3 ls s3://data/)
grep -q big.bin <<<"$ls_out" && grep -q small.bin <<<"$ls_out" || fail "aws s3 ls: $ls_out"
gw s3api head-object --bucket data --key small.bin >/dev/null
pass "aws s3 ls, head-object"

# aws-cli v1 presigns with SigV2 unless told otherwise; the gateway speaks SigV4 only.
printf '[default]\ns3 =\n    signature_version = s3v4\n' >"$WORK/aws.cfg"
url=$(AWS_CONFIG_FILE=$WORK/aws.cfg gw s3 presign s3://data/small.bin)
curl -fsS "$url" -o "$WORK/small.presigned" || fail "presigned GET"
cmp -s "$WORK/small.bin" "$WORK/small.presigned" || fail "presigned GET body differs"
pass "presigned GET"

root iam create-user --user-name nobody >/dev/null
read -r NAKID NSECRET < <(root iam create-access-key --user-name nobody --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
expect_error AccessDenied as "$NAKID" "$NSECRET" -- --endpoint-url "$GW" s3api get-object --bucket data --key small.bin "$WORK/x"
pass "user without S3 permissions: AccessDenied"

gw s3api put-bucket-policy --bucket data --policy \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}]}'
gw s3 rm s3://data/small.bin >/dev/null
expect_error 404 gw s3api head-object --bucket data --key small.bin
pass "put-bucket-policy, rm"

# Every request is in the data trail's log files.
records() {
  find "$DATA/buckets/trail-data" -name '[0-9]*_CloudTrail_*.json.gz' -path '*CloudTrail/*' -print0 |
    xargs -0 -r -n1 sh -c 'gzip -dc "$0"; echo' | jq -c '.Records[] | select(.eventSource=="s3.amazonaws.com")'
}
for _ in $(seq 1 100); do
  n=$(records | jq -s 'map(select(.eventName=="HeadObject" and .errorCode=="NoSuchKey")) | length')
  [ "$n" -ge 1 ] && break
  sleep 0.2
done
R=$(records | jq -s .)
count() { jq "[.[] | select($1)] | length" <<<"$R"; }
[ "$(count '.eventName=="PutObject" and .requestParameters.key=="small.bin" and .additionalEventData.bytesTransferredIn==1000')" -ge 1 ] || fail "no PutObject small.bin record with 1000 bytes in"
[ "$(count '.eventName=="CreateMultipartUpload" and .requestParameters.key=="big.bin"')" -ge 1 ] || fail "no CreateMultipartUpload record"
[ "$(count '.eventName=="UploadPart" and .requestParameters.key=="big.bin"')" -ge 3 ] || fail "fewer than 3 UploadPart records"
[ "$(count '.eventName=="CompleteMultipartUpload"')" -ge 1 ] || fail "no CompleteMultipartUpload record"
out=$(jq '[.[] | select(.eventName=="GetObject" and .requestParameters.key=="big.bin" and .errorCode==null) | .additionalEventData.bytesTransferredOut] | add' <<<"$R")
eq "$out" "$((20 << 20))" "bytesTransferredOut of the GetObject records of big.bin"
[ "$(count '.eventName=="ListObjectsV2" and .eventCategory=="Data"')" -ge 1 ] || fail "no ListObjectsV2 data event"
[ "$(count '.eventName=="GetObject" and .additionalEventData.AuthenticationMethod=="QueryString"')" -ge 1 ] || fail "no presigned GetObject record"
[ "$(count '.eventName=="GetObject" and .errorCode=="AccessDenied" and .userIdentity.userName=="nobody"')" -ge 1 ] || fail "no denied GetObject record"
[ "$(count '.eventName=="PutBucketPolicy" and .eventCategory=="Management" and .managementEvent==true')" -ge 1 ] || fail "no PutBucketPolicy management record"
[ "$(count '.eventName=="DeleteObject" and .resources[0].ARN=="arn:aws:s3:::data/small.bin"')" -ge 1 ] || fail "no DeleteObject record"
[ "$(count '.eventCategory=="Data" and (.managementEvent!=false or .readOnly==null or .userIdentity.type==null)')" -eq 0 ] || fail "malformed data event"
pass "every request recorded in the data trail ($(jq length <<<"$R") S3 records)"

# Event History shows the management event only.
hist=$(root cloudtrail lookup-events --lookup-attributes AttributeKey=EventSource,AttributeValue=s3.amazonaws.com --query 'Events[].EventName' --output text)
grep -q PutBucketPolicy <<<"$hist" || fail "Event History lacks PutBucketPolicy: $hist"
grep -qE 'GetObject|PutObject|UploadPart' <<<"$hist" && fail "Event History shows data events: $hist"
pass "Event History: management S3 events only"
# Pass-through: the same data dir, the gateway now forwarding the client's own signature.
# Clients sign with the store's keys, which OpenTrail does not know: recorded as Unknown.
stop_server
start_server --delivery-interval 1s --gateway-listen "127.0.0.1:$GW_PORT" --gateway-backend "$VGW" --gateway-mode pass-through
pt() { AWS_ACCESS_KEY_ID=$VGW_KEY AWS_SECRET_ACCESS_KEY=$VGW_SECRET aws --endpoint-url "$GW" "$@"; }
pt s3 cp "$WORK/small.bin" s3://data/pt/small.bin >/dev/null
pt s3 cp s3://data/pt/small.bin "$WORK/pt.back" >/dev/null
cmp -s "$WORK/small.bin" "$WORK/pt.back" || fail "pass-through read back differs"
direct s3 cp s3://data/pt/small.bin "$WORK/pt.direct" >/dev/null
cmp -s "$WORK/small.bin" "$WORK/pt.direct" || fail "pass-through object on versitygw differs"
pt s3 ls s3://data/pt/ | grep -q small.bin || fail "pass-through ls"
pass "pass-through: aws s3 cp up and down, ls; bytes identical"
for _ in $(seq 1 100); do
  n=$(records | jq -s 'map(select(.eventName=="GetObject" and .requestParameters.key=="pt/small.bin")) | length')
  [ "$n" -ge 1 ] && break
  sleep 0.2
done
R=$(records | jq -s .)
[ "$(count '.eventName=="PutObject" and .requestParameters.key=="pt/small.bin" and .userIdentity.type=="Unknown" and .userIdentity.accessKeyId=="'"$VGW_KEY"'"')" -ge 1 ] || fail "no pass-through PutObject record with an Unknown identity"
[ "$(count '.eventName=="GetObject" and .requestParameters.key=="pt/small.bin" and .additionalEventData.bytesTransferredOut==1000')" -ge 1 ] || fail "no pass-through GetObject record with 1000 bytes out"
pass "pass-through records: Unknown identity with the store's key ID, bytes counted"
echo "gateway.sh: all passed"
