package iam

import (
	"fmt"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/iam/types"
)

func TestUsers(t *testing.T) {
	e := newEnv(t)
	c := e.rootIAM()

	before := time.Now().Add(-time.Second)
	u := must(c.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("bob"), Path: aws.String("/dev/")}))(t).User
	if !regexp.MustCompile(`^AIDA[A-Z0-9]{17}$`).MatchString(*u.UserId) {
		t.Errorf("user ID %s; want AIDA and 17 upper-case letters or digits", *u.UserId)
	}
	if *u.Arn != "arn:aws:iam::"+acctA+":user/dev/bob" || *u.Path != "/dev/" || *u.UserName != "bob" {
		t.Errorf("got %s %s %s", *u.Arn, *u.Path, *u.UserName)
	}
	if u.CreateDate == nil || u.CreateDate.Before(before) || u.CreateDate.After(time.Now().Add(time.Second)) {
		t.Errorf("create date %v", u.CreateDate)
	}

	_, err := c.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("bob")})
	wantErr(t, err, "EntityAlreadyExists", 409, "User with name bob already exists.")
	_, err = c.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("BOB")})
	wantErr(t, err, "EntityAlreadyExists", 409, "User with name BOB already exists.")

	got := must(c.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("Bob")}))(t).User
	if *got.UserId != *u.UserId || *got.Arn != *u.Arn {
		t.Errorf("GetUser: got %s %s", *got.UserId, *got.Arn)
	}
	_, err = c.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("alice")})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name alice cannot be found.")

	// Without a name, GetUser describes the caller: here the root user.
	self := must(c.GetUser(ctx, &awsiam.GetUserInput{}))(t).User
	if *self.UserId != acctA || *self.Arn != "arn:aws:iam::"+acctA+":root" {
		t.Errorf("root GetUser: %s %s", *self.UserId, *self.Arn)
	}

	_, err = c.DeleteUser(ctx, &awsiam.DeleteUserInput{UserName: aws.String("nobody")})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name nobody cannot be found.")
	must(c.DeleteUser(ctx, &awsiam.DeleteUserInput{UserName: aws.String("bob")}))(t)
	_, err = c.GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("bob")})
	wantErr(t, err, "NoSuchEntity", 404, "")

	// Account B does not see account A's users.
	must(c.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("carol")}))(t)
	_, err = e.iam(rootB, secretB, "").GetUser(ctx, &awsiam.GetUserInput{UserName: aws.String("carol")})
	wantErr(t, err, "NoSuchEntity", 404, "")
	must(e.iam(rootB, secretB, "").CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("carol")}))(t)
}

func TestUserValidation(t *testing.T) {
	e := newEnv(t)
	c := e.rootIAM()
	cases := []struct {
		in   *awsiam.CreateUserInput
		code string
		msg  string
	}{
		{&awsiam.CreateUserInput{UserName: aws.String("bad name")}, "ValidationError",
			`1 validation error detected: Value 'bad name' at 'userName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]+`},
		{&awsiam.CreateUserInput{UserName: aws.String(strings.Repeat("a", 65))}, "ValidationError",
			"at 'userName' failed to satisfy constraint: Member must have length less than or equal to 64"},
		{&awsiam.CreateUserInput{UserName: aws.String("ok"), Path: aws.String("dev")}, "ValidationError",
			`1 validation error detected: Value 'dev' at 'path' failed to satisfy constraint: Member must satisfy regular expression pattern: (\u002F)|(\u002F[\u0021-\u007E]+\u002F)`},
		{&awsiam.CreateUserInput{UserName: aws.String("bad name"), Path: aws.String("/dev")}, "ValidationError",
			"2 validation errors detected: Value 'bad name' at 'userName'"},
	}
	for _, tc := range cases {
		_, err := c.CreateUser(ctx, tc.in)
		wantErr(t, err, tc.code, 400, tc.msg)
	}
	_, err := c.ListUsers(ctx, &awsiam.ListUsersInput{MaxItems: aws.Int32(1001)})
	wantErr(t, err, "ValidationError", 400, "Value '1001' at 'maxItems' failed to satisfy constraint: Member must have value less than or equal to 1000")
}

func TestListUsersPagination(t *testing.T) {
	e := newEnv(t)
	c := e.rootIAM()
	var want []string
	for i := range 7 {
		name := fmt.Sprintf("user%d", i)
		path := "/"
		if i%2 == 1 {
			path = "/odd/"
		}
		must(c.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String(name), Path: aws.String(path)}))(t)
		want = append(want, name)
	}
	var got []string
	var marker *string
	pages := 0
	for {
		out := must(c.ListUsers(ctx, &awsiam.ListUsersInput{MaxItems: aws.Int32(3), Marker: marker}))(t)
		pages++
		for _, u := range out.Users {
			got = append(got, *u.UserName)
		}
		if !out.IsTruncated {
			if out.Marker != nil {
				t.Errorf("last page has a marker")
			}
			break
		}
		marker = out.Marker
	}
	if pages != 3 || strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("got %d pages %v; want 3 pages %v", pages, got, want)
	}

	// The SDK paginator agrees.
	p := awsiam.NewListUsersPaginator(c, &awsiam.ListUsersInput{MaxItems: aws.Int32(2)})
	n := 0
	for p.HasMorePages() {
		n += len(must(p.NextPage(ctx))(t).Users)
	}
	if n != 7 {
		t.Errorf("paginator listed %d users; want 7", n)
	}

	odd := must(c.ListUsers(ctx, &awsiam.ListUsersInput{PathPrefix: aws.String("/odd")}))(t).Users
	if len(odd) != 3 {
		t.Errorf("path prefix /odd: %d users; want 3", len(odd))
	}

	// An empty list is a list, not an absent member.
	empty := must(e.iam(rootB, secretB, "").ListUsers(ctx, &awsiam.ListUsersInput{}))(t)
	if empty.Users == nil || len(empty.Users) != 0 || empty.IsTruncated {
		t.Errorf("empty account: %+v", empty)
	}
}

func TestInlineUserPolicies(t *testing.T) {
	e := newEnv(t)
	c := e.rootIAM()
	must(c.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("bob")}))(t)
	doc := `{
  "Version": "2012-10-17",
  "Statement": [{"Effect": "Allow", "Action": "iam:Get*", "Resource": "*"}]
}`
	for _, name := range []string{"p1", "p2", "p3"} {
		must(c.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String(name), PolicyDocument: aws.String(doc)}))(t)
	}
	got := must(c.GetUserPolicy(ctx, &awsiam.GetUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("p2")}))(t)
	if strings.ContainsAny(*got.PolicyDocument, "{ \"") {
		t.Errorf("policy document is not URL-encoded: %s", *got.PolicyDocument)
	}
	if dec, err := url.QueryUnescape(*got.PolicyDocument); err != nil || dec != doc {
		t.Errorf("decoded document %q (%v); want %q", dec, err, doc)
	}
	if *got.UserName != "bob" || *got.PolicyName != "p2" {
		t.Errorf("got %s %s", *got.UserName, *got.PolicyName)
	}

	page1 := must(c.ListUserPolicies(ctx, &awsiam.ListUserPoliciesInput{UserName: aws.String("bob"), MaxItems: aws.Int32(2)}))(t)
	if strings.Join(page1.PolicyNames, ",") != "p1,p2" || !page1.IsTruncated {
		t.Fatalf("page 1: %v truncated=%v", page1.PolicyNames, page1.IsTruncated)
	}
	page2 := must(c.ListUserPolicies(ctx, &awsiam.ListUserPoliciesInput{UserName: aws.String("bob"), Marker: page1.Marker}))(t)
	if strings.Join(page2.PolicyNames, ",") != "p3" || page2.IsTruncated {
		t.Errorf("page 2: %v truncated=%v", page2.PolicyNames, page2.IsTruncated)
	}

	_, err := c.GetUserPolicy(ctx, &awsiam.GetUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("nope")})
	wantErr(t, err, "NoSuchEntity", 404, "The user policy with name nope cannot be found.")
	_, err = c.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("nobody"), PolicyName: aws.String("p"), PolicyDocument: aws.String(doc)})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name nobody cannot be found.")
	_, err = c.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("p"), PolicyDocument: aws.String(`{"Version":"2012-10-17"`)})
	wantErr(t, err, "MalformedPolicyDocument", 400, "")
	_, err = c.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("p"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"*","Resource":"*","Principal":"*"}]}`)})
	wantErr(t, err, "MalformedPolicyDocument", 400, "Policy document should not specify a principal.")

	// The user's inline policies may total 2048 characters, white space excepted.
	big := allow("arn:aws:iam::"+acctA+":user/"+strings.Repeat("x", 1900), "iam:GetUser")
	_, err = c.PutUserPolicy(ctx, &awsiam.PutUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("big"), PolicyDocument: aws.String(big)})
	wantErr(t, err, "LimitExceeded", 409, "Maximum policy size of 2048 bytes exceeded for user bob")

	_, err = c.DeleteUser(ctx, &awsiam.DeleteUserInput{UserName: aws.String("bob")})
	wantErr(t, err, "DeleteConflict", 409, "must delete policies first")
	for _, name := range []string{"p1", "p2", "p3"} {
		must(c.DeleteUserPolicy(ctx, &awsiam.DeleteUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String(name)}))(t)
	}
	_, err = c.DeleteUserPolicy(ctx, &awsiam.DeleteUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("p1")})
	wantErr(t, err, "NoSuchEntity", 404, "")
	must(c.DeleteUser(ctx, &awsiam.DeleteUserInput{UserName: aws.String("bob")}))(t)
}

func TestAccessKeys(t *testing.T) {
	e := newEnv(t)
	c := e.rootIAM()
	must(c.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("bob")}))(t)
	k1 := must(c.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("bob")}))(t).AccessKey
	if !regexp.MustCompile(`^AKIA[A-Z0-9]{16}$`).MatchString(*k1.AccessKeyId) || len(*k1.SecretAccessKey) != 40 {
		t.Errorf("key %s secret length %d", *k1.AccessKeyId, len(*k1.SecretAccessKey))
	}
	if *k1.UserName != "bob" || k1.Status != types.StatusTypeActive {
		t.Errorf("key user %s status %s", *k1.UserName, k1.Status)
	}
	k2 := must(c.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("bob")}))(t).AccessKey
	_, err := c.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("bob")})
	wantErr(t, err, "LimitExceeded", 409, "Cannot exceed quota for AccessKeysPerUser: 2")
	_, err = c.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{UserName: aws.String("nobody")})
	wantErr(t, err, "NoSuchEntity", 404, "")

	list := must(c.ListAccessKeys(ctx, &awsiam.ListAccessKeysInput{UserName: aws.String("bob")}))(t).AccessKeyMetadata
	if len(list) != 2 {
		t.Fatalf("listed %d keys; want 2", len(list))
	}
	for _, k := range list {
		if *k.UserName != "bob" || k.Status != types.StatusTypeActive || k.CreateDate == nil {
			t.Errorf("metadata %+v", k)
		}
	}

	// Bob may manage his own keys without naming himself.
	e.putUserPolicy("bob", "self", allow("arn:aws:iam::"+acctA+":user/bob", "iam:*AccessKey*", "iam:GetUser"))
	bob := e.iam(*k1.AccessKeyId, *k1.SecretAccessKey, "")
	me := must(bob.GetUser(ctx, &awsiam.GetUserInput{}))(t).User
	if *me.UserName != "bob" {
		t.Errorf("GetUser as bob: %s", *me.UserName)
	}
	own := must(bob.ListAccessKeys(ctx, &awsiam.ListAccessKeysInput{}))(t).AccessKeyMetadata
	if len(own) != 2 {
		t.Errorf("bob lists %d keys of his own; want 2", len(own))
	}

	// An inactive key stops authenticating; activated again, it works.
	must(c.UpdateAccessKey(ctx, &awsiam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: k1.AccessKeyId, Status: types.StatusTypeInactive}))(t)
	_, err = bob.GetUser(ctx, &awsiam.GetUserInput{})
	wantErr(t, err, "InvalidClientTokenId", 403, "")
	for _, k := range must(c.ListAccessKeys(ctx, &awsiam.ListAccessKeysInput{UserName: aws.String("bob")}))(t).AccessKeyMetadata {
		if want := map[bool]types.StatusType{true: types.StatusTypeInactive, false: types.StatusTypeActive}[*k.AccessKeyId == *k1.AccessKeyId]; k.Status != want {
			t.Errorf("status of %s after deactivation: %s; want %s", *k.AccessKeyId, k.Status, want)
		}
	}
	must(c.UpdateAccessKey(ctx, &awsiam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: k1.AccessKeyId, Status: types.StatusTypeActive}))(t)
	must(bob.GetUser(ctx, &awsiam.GetUserInput{}))(t)

	_, err = c.UpdateAccessKey(ctx, &awsiam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: aws.String("AKIAXXXXXXXXXXXXXXXX"), Status: types.StatusTypeInactive})
	wantErr(t, err, "NoSuchEntity", 404, "The Access Key with id AKIAXXXXXXXXXXXXXXXX cannot be found.")
	_, err = c.UpdateAccessKey(ctx, &awsiam.UpdateAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: k1.AccessKeyId, Status: "Bogus"})
	wantErr(t, err, "ValidationError", 400, "Member must satisfy enum value set")

	_, err = c.DeleteUser(ctx, &awsiam.DeleteUserInput{UserName: aws.String("bob")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete entity, must delete access keys first.")

	// Bob deletes his second key himself, then the root user deletes the first.
	must(bob.DeleteAccessKey(ctx, &awsiam.DeleteAccessKeyInput{AccessKeyId: k2.AccessKeyId}))(t)
	_, err = bob.DeleteAccessKey(ctx, &awsiam.DeleteAccessKeyInput{AccessKeyId: k2.AccessKeyId})
	wantErr(t, err, "NoSuchEntity", 404, "")
	must(c.DeleteAccessKey(ctx, &awsiam.DeleteAccessKeyInput{UserName: aws.String("bob"), AccessKeyId: k1.AccessKeyId}))(t)
	_, err = bob.GetUser(ctx, &awsiam.GetUserInput{})
	wantErr(t, err, "InvalidClientTokenId", 403, "")
	must(c.DeleteUserPolicy(ctx, &awsiam.DeleteUserPolicyInput{UserName: aws.String("bob"), PolicyName: aws.String("self")}))(t)
	must(c.DeleteUser(ctx, &awsiam.DeleteUserInput{UserName: aws.String("bob")}))(t)
}

func TestRootAccessKeys(t *testing.T) {
	e := newEnv(t)
	c := e.rootIAM()
	// The bootstrap key is one of the root user's two keys.
	k := must(c.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{}))(t).AccessKey
	if k.UserName != nil {
		t.Errorf("root key has user name %q", *k.UserName)
	}
	_, err := c.CreateAccessKey(ctx, &awsiam.CreateAccessKeyInput{})
	wantErr(t, err, "LimitExceeded", 409, "")
	list := must(c.ListAccessKeys(ctx, &awsiam.ListAccessKeysInput{}))(t).AccessKeyMetadata
	if len(list) != 2 {
		t.Errorf("root has %d keys; want 2", len(list))
	}
	root2 := e.iam(*k.AccessKeyId, *k.SecretAccessKey, "")
	must(root2.ListUsers(ctx, &awsiam.ListUsersInput{}))(t)
	must(root2.DeleteAccessKey(ctx, &awsiam.DeleteAccessKeyInput{AccessKeyId: k.AccessKeyId}))(t)
	_, err = root2.ListUsers(ctx, &awsiam.ListUsersInput{})
	wantErr(t, err, "InvalidClientTokenId", 403, "")
}
