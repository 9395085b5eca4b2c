#!/usr/bin/env bash
# IAM and STS through the aws CLI: root, a user with its own key (allowed and denied calls),
# an assumed role, authentication failures, and a restart that keeps everything.
source "$(dirname "$0")/lib.sh"
start_server

# Root.
arn=$(root sts get-caller-identity --query Arn --output text)
eq "$arn" "arn:aws:iam::$ACCOUNT:root" "root ARN"
acct=$(root sts get-caller-identity --query Account --output text)
eq "$acct" "$ACCOUNT" "root account"
pass "root get-caller-identity"

# A user with a key and a policy allowing only GetCallerIdentity and iam:GetUser.
root iam create-user --user-name alice --path /eng/ >/dev/null
expect_error EntityAlreadyExists root iam create-user --user-name alice
read -r AKID SECRET < <(root iam create-access-key --user-name alice --query 'AccessKey.[AccessKeyId,SecretAccessKey]' --output text)
[[ $AKID == AKIA* ]] || fail "access key id $AKID"
root iam put-user-policy --user-name alice --policy-name basics --policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sts:GetCallerIdentity","iam:GetUser","sts:AssumeRole"],"Resource":"*"}]}'
eq "$(as "$AKID" "$SECRET" -- sts get-caller-identity --query Arn --output text)" "arn:aws:iam::$ACCOUNT:user/eng/alice" "user ARN"
uid=$(as "$AKID" "$SECRET" -- sts get-caller-identity --query UserId --output text)
[[ $uid == AIDA* ]] || fail "user id $uid"
eq "$(as "$AKID" "$SECRET" -- iam get-user --query User.UserName --output text)" "alice" "get-user as alice"
expect_error AccessDenied as "$AKID" "$SECRET" -- iam create-user --user-name mallory
pass "user allowed and denied"

# Explicit deny wins over allow.
root iam put-user-policy --user-name alice --policy-name deny-getuser --policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"iam:GetUser","Resource":"*"}]}'
expect_error AccessDenied as "$AKID" "$SECRET" -- iam get-user
pass "explicit deny"

# A role alice may assume.
root iam create-role --role-name auditor --assume-role-policy-document \
  "{\"Version\":\"2012-10-17\",\"Statement\":[{\"Effect\":\"Allow\",\"Principal\":{\"AWS\":\"arn:aws:iam::$ACCOUNT:user/eng/alice\"},\"Action\":\"sts:AssumeRole\"}]}" >/dev/null
root iam put-role-policy --role-name auditor --policy-name id --policy-document \
  '{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"sts:GetCallerIdentity","Resource":"*"}]}'
read -r TAKID TSECRET TTOKEN < <(as "$AKID" "$SECRET" -- sts assume-role --role-arn "arn:aws:iam::$ACCOUNT:role/auditor" \
  --role-session-name audit-1 --query 'Credentials.[AccessKeyId,SecretAccessKey,SessionToken]' --output text)
[[ $TAKID == ASIA* ]] || fail "temporary key $TAKID"
eq "$(as "$TAKID" "$TSECRET" "$TTOKEN" -- sts get-caller-identity --query Arn --output text)" \
  "arn:aws:sts::$ACCOUNT:assumed-role/auditor/audit-1" "assumed-role ARN"
expect_error AccessDenied as "$TAKID" "$TSECRET" "$TTOKEN" -- iam list-users
expect_error InvalidClientTokenId as "$TAKID" "$TSECRET" -- sts get-caller-identity
expect_error AccessDenied as "$AKID" "$SECRET" -- sts assume-role --role-arn "arn:aws:iam::999999999999:role/auditor" --role-session-name s1
pass "assume role"

# Authentication failures.
expect_error InvalidClientTokenId as AKIANOSUCHKEY0000000 whatever -- sts get-caller-identity
expect_error SignatureDoesNotMatch as "$AKID" "wrong-secret-wrong-secret-wrong-secret00" -- sts get-caller-identity
expect_error UnrecognizedClientException as AKIANOSUCHKEY0000000 whatever -- cloudtrail describe-trails
pass "authentication failures"

# Restart: everything is still there.
stop_server
start_server
eq "$(as "$AKID" "$SECRET" -- sts get-caller-identity --query Arn --output text)" "arn:aws:iam::$ACCOUNT:user/eng/alice" "user after restart"
eq "$(as "$TAKID" "$TSECRET" "$TTOKEN" -- sts get-caller-identity --query Arn --output text)" \
  "arn:aws:sts::$ACCOUNT:assumed-role/auditor/audit-1" "temporary credentials after restart"
eq "$(root iam list-users --query 'Users[].UserName' --output text)" "alice" "users after restart"
pass "restart keeps identities"
echo "identity.sh: all passed"
