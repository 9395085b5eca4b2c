package iam

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"
)

func TestGetCallerIdentity(t *testing.T) {
	e := newEnv(t)
	id := must(e.sts(rootA, secretA, "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
	if *id.UserId != acctA || *id.Account != acctA || *id.Arn != "arn:aws:iam::"+acctA+":root" {
		t.Errorf("root: %s %s %s", *id.UserId, *id.Account, *id.Arn)
	}
	_, bobSTS, _, _ := e.userWithKey("bob")
	// GetCallerIdentity needs no permission.
	id = must(bobSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
	if !strings.HasPrefix(*id.UserId, "AIDA") || *id.Account != acctA || *id.Arn != "arn:aws:iam::"+acctA+":user/bob" {
		t.Errorf("bob: %s %s %s", *id.UserId, *id.Account, *id.Arn)
	}
	_, err := e.sts(rootA, "wrong-secret-wrong-secret-wrong-secret-xx", "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, err, "SignatureDoesNotMatch", 403, "")
	_, err = e.sts("AKIAUNKNOWNUNKNOWN00", secretA, "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, err, "InvalidClientTokenId", 403, "")
}

func TestAssumeRole(t *testing.T) {
	e := newEnv(t)
	root := e.rootIAM()
	rootSTS := e.sts(rootA, secretA, "")
	roleArn := "arn:aws:iam::" + acctA + ":role/app/worker"
	role := must(root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("worker"), Path: aws.String("/app/"),
		AssumeRolePolicyDocument: aws.String(trust("arn:aws:iam::" + acctA + ":root")), MaxSessionDuration: aws.Int32(7200)}))(t).Role
	must(root.PutRolePolicy(ctx, &awsiam.PutRolePolicyInput{RoleName: aws.String("worker"), PolicyName: aws.String("users"), PolicyDocument: aws.String(allow("*", "iam:ListUsers"))}))(t)

	start := time.Now()
	out := must(rootSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("job-1")}))(t)
	cr := out.Credentials
	if !regexp.MustCompile(`^ASIA[A-Z0-9]{16}$`).MatchString(*cr.AccessKeyId) || len(*cr.SecretAccessKey) != 40 || len(*cr.SessionToken) < 100 {
		t.Errorf("credentials %s, secret %d chars, token %d chars", *cr.AccessKeyId, len(*cr.SecretAccessKey), len(*cr.SessionToken))
	}
	if d := cr.Expiration.Sub(start); d < 59*time.Minute || d > 61*time.Minute {
		t.Errorf("expires in %v; want 1h", d)
	}
	if *out.AssumedRoleUser.Arn != "arn:aws:sts::"+acctA+":assumed-role/worker/job-1" || *out.AssumedRoleUser.AssumedRoleId != *role.RoleId+":job-1" {
		t.Errorf("assumed role user %s %s", *out.AssumedRoleUser.Arn, *out.AssumedRoleUser.AssumedRoleId)
	}

	// The temporary credentials identify the session and carry the role's permissions.
	tmpSTS := e.sts(*cr.AccessKeyId, *cr.SecretAccessKey, *cr.SessionToken)
	id := must(tmpSTS.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
	if *id.UserId != *role.RoleId+":job-1" || *id.Arn != "arn:aws:sts::"+acctA+":assumed-role/worker/job-1" || *id.Account != acctA {
		t.Errorf("assumed identity %s %s %s", *id.UserId, *id.Arn, *id.Account)
	}
	tmp := e.iam(*cr.AccessKeyId, *cr.SecretAccessKey, *cr.SessionToken)
	must(tmp.ListUsers(ctx, &awsiam.ListUsersInput{}))(t)
	_, err := tmp.ListRoles(ctx, &awsiam.ListRolesInput{})
	wantErr(t, err, "AccessDenied", 403, "User: arn:aws:sts::"+acctA+":assumed-role/worker/job-1 is not authorized to perform: iam:ListRoles")
	_, err = tmp.GetUser(ctx, &awsiam.GetUserInput{})
	wantErr(t, err, "AccessDenied", 403, "") // authorization comes first
	must(root.PutRolePolicy(ctx, &awsiam.PutRolePolicyInput{RoleName: aws.String("worker"), PolicyName: aws.String("self"), PolicyDocument: aws.String(allow("*", "iam:GetUser"))}))(t)
	_, err = tmp.GetUser(ctx, &awsiam.GetUserInput{})
	wantErr(t, err, "ValidationError", 400, "Must specify userName when calling with non-User credentials")

	// A wrong or missing session token is refused.
	_, err = e.sts(*cr.AccessKeyId, *cr.SecretAccessKey, "bogus").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, err, "InvalidClientTokenId", 403, "")
	_, err = e.sts(*cr.AccessKeyId, *cr.SecretAccessKey, "").GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, err, "InvalidClientTokenId", 403, "")

	// Durations.
	long := must(rootSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("long"), DurationSeconds: aws.Int32(7200)}))(t)
	if d := long.Credentials.Expiration.Sub(start); d < 119*time.Minute {
		t.Errorf("7200 s session expires in %v", d)
	}
	_, err = rootSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(7201)})
	wantErr(t, err, "ValidationError", 400, "The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	_, err = rootSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("s1"), DurationSeconds: aws.Int32(60)})
	wantErr(t, err, "ValidationError", 400, "Value '60' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to 900")
	_, err = rootSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("bad name")})
	wantErr(t, err, "ValidationError", 400, `Value 'bad name' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`)
	_, err = rootSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + acctA + ":role/missing"), RoleSessionName: aws.String("s1")})
	wantErr(t, err, "AccessDenied", 403, "is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::"+acctA+":role/missing")

	// Role chaining is limited to one hour.
	must(root.PutRolePolicy(ctx, &awsiam.PutRolePolicyInput{RoleName: aws.String("worker"), PolicyName: aws.String("assume"), PolicyDocument: aws.String(allow(roleArn, "sts:AssumeRole"))}))(t)
	must(root.UpdateAssumeRolePolicy(ctx, &awsiam.UpdateAssumeRolePolicyInput{RoleName: aws.String("worker"), PolicyDocument: aws.String(trust("arn:aws:iam::" + acctA + ":root"))}))(t)
	tmpSTS = e.sts(*cr.AccessKeyId, *cr.SecretAccessKey, *cr.SessionToken)
	_, err = tmpSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("chain"), DurationSeconds: aws.Int32(7200)})
	wantErr(t, err, "ValidationError", 400, "role chaining")
	chained := must(tmpSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("chain")}))(t)
	if *chained.AssumedRoleUser.Arn != "arn:aws:sts::"+acctA+":assumed-role/worker/chain" {
		t.Errorf("chained: %s", *chained.AssumedRoleUser.Arn)
	}

	// Deleting the role ends what its sessions may do.
	for _, p := range []string{"users", "self", "assume"} {
		must(root.DeleteRolePolicy(ctx, &awsiam.DeleteRolePolicyInput{RoleName: aws.String("worker"), PolicyName: aws.String(p)}))(t)
	}
	must(root.DeleteRole(ctx, &awsiam.DeleteRoleInput{RoleName: aws.String("worker")}))(t)
	must(root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("worker"), Path: aws.String("/app/"), AssumeRolePolicyDocument: aws.String(trust(acctA))}))(t)
	must(root.PutRolePolicy(ctx, &awsiam.PutRolePolicyInput{RoleName: aws.String("worker"), PolicyName: aws.String("users"), PolicyDocument: aws.String(allow("*", "iam:ListUsers"))}))(t)
	_, err = tmp.ListUsers(ctx, &awsiam.ListUsersInput{})
	wantErr(t, err, "AccessDenied", 403, "")
}

func TestAssumeRoleByUsers(t *testing.T) {
	e := newEnv(t)
	root := e.rootIAM()
	bobIAM, bobSTS, _, _ := e.userWithKey("bob")
	_, annSTS, _, _ := e.userWithKey("ann")
	bobArn := "arn:aws:iam::" + acctA + ":user/bob"
	roleArn := "arn:aws:iam::" + acctA + ":role/r"
	must(root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust(bobArn))}))(t)
	must(root.AttachRolePolicy(ctx, &awsiam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMReadOnlyAccess")}))(t)

	// Trusted, but bob's own policies do not allow sts:AssumeRole.
	_, err := bobSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("s1")})
	wantErr(t, err, "AccessDenied", 403, "User: "+bobArn+" is not authorized to perform: sts:AssumeRole on resource: "+roleArn)
	e.putUserPolicy("bob", "assume", allow(roleArn, "sts:AssumeRole"))
	out := must(bobSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("s1")}))(t)
	tmp := e.iam(*out.Credentials.AccessKeyId, *out.Credentials.SecretAccessKey, *out.Credentials.SessionToken)
	must(tmp.ListUsers(ctx, &awsiam.ListUsersInput{}))(t)
	_, err = tmp.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("x")})
	wantErr(t, err, "AccessDenied", 403, "")
	_, err = bobIAM.ListUsers(ctx, &awsiam.ListUsersInput{})
	wantErr(t, err, "AccessDenied", 403, "") // bob himself still may not

	// Allowed by her policies, but not trusted by the role.
	e.putUserPolicy("ann", "assume", allow("*", "sts:AssumeRole"))
	_, err = annSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("s2")})
	wantErr(t, err, "AccessDenied", 403, "")

	// An explicit deny in the user's policies.
	e.putUserPolicy("bob", "no", deny("*", "sts:AssumeRole"))
	_, err = bobSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("s3")})
	wantErr(t, err, "AccessDenied", 403, "")

	// The root user is allowed to call AssumeRole, but the trust policy names bob only.
	_, err = e.sts(rootA, secretA, "").AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("s4")})
	wantErr(t, err, "AccessDenied", 403, "")
}

func TestAssumeRoleSessionPolicy(t *testing.T) {
	e := newEnv(t)
	root := e.rootIAM()
	roleArn := "arn:aws:iam::" + acctA + ":role/r"
	must(root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust(acctA))}))(t)
	must(root.AttachRolePolicy(ctx, &awsiam.AttachRolePolicyInput{RoleName: aws.String("r"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMReadOnlyAccess")}))(t)
	out := must(e.sts(rootA, secretA, "").AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("narrow"),
		Policy: aws.String(allow("*", "iam:ListRoles", "iam:CreateUser"))}))(t)
	//lint:ignore SA1019 AWS still returns PackedPolicySize and so does OpenTrail
	if out.PackedPolicySize == nil {
		t.Error("no PackedPolicySize with a session policy")
	}
	tmp := e.iam(*out.Credentials.AccessKeyId, *out.Credentials.SecretAccessKey, *out.Credentials.SessionToken)
	must(tmp.ListRoles(ctx, &awsiam.ListRolesInput{}))(t)  // allowed by both
	_, err := tmp.ListUsers(ctx, &awsiam.ListUsersInput{}) // role allows, session policy does not
	wantErr(t, err, "AccessDenied", 403, "")
	_, err = tmp.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("x")}) // session policy allows, role does not
	wantErr(t, err, "AccessDenied", 403, "")

	_, err = e.sts(rootA, secretA, "").AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("bad"), Policy: aws.String("{")})
	wantErr(t, err, "MalformedPolicyDocument", 400, "")
}

func TestAssumeRoleCrossAccount(t *testing.T) {
	e := newEnv(t)
	rootB := e.iam(rootB, secretB, "")
	trusting := "arn:aws:iam::" + acctB + ":role/trusting"
	closed := "arn:aws:iam::" + acctB + ":role/closed"
	must(rootB.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("trusting"), AssumeRolePolicyDocument: aws.String(trust("arn:aws:iam::" + acctA + ":root"))}))(t)
	must(rootB.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("closed"), AssumeRolePolicyDocument: aws.String(trust(acctB))}))(t)
	must(rootB.AttachRolePolicy(ctx, &awsiam.AttachRolePolicyInput{RoleName: aws.String("trusting"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMReadOnlyAccess")}))(t)

	stsA := e.sts(rootA, secretA, "")
	_, err := stsA.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(closed), RoleSessionName: aws.String("x1")})
	wantErr(t, err, "AccessDenied", 403, "on resource: "+closed)
	out := must(stsA.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(trusting), RoleSessionName: aws.String("x1")}))(t)
	if *out.AssumedRoleUser.Arn != "arn:aws:sts::"+acctB+":assumed-role/trusting/x1" {
		t.Errorf("cross-account session %s", *out.AssumedRoleUser.Arn)
	}
	// The session acts in the role's account.
	cr := out.Credentials
	id := must(e.sts(*cr.AccessKeyId, *cr.SecretAccessKey, *cr.SessionToken).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}))(t)
	if *id.Account != acctB {
		t.Errorf("session account %s; want %s", *id.Account, acctB)
	}
	must(rootB.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("inb")}))(t)
	users := must(e.iam(*cr.AccessKeyId, *cr.SecretAccessKey, *cr.SessionToken).ListUsers(ctx, &awsiam.ListUsersInput{}))(t).Users
	if len(users) != 1 || *users[0].UserName != "inb" {
		t.Errorf("users seen by the session: %+v", users)
	}

	// A user of account A needs its own policy to allow the cross-account role too.
	_, bobSTS, _, _ := e.userWithKey("bob")
	_, err = bobSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(trusting), RoleSessionName: aws.String("x2")})
	wantErr(t, err, "AccessDenied", 403, "")
	e.putUserPolicy("bob", "assume", allow("arn:aws:iam::*:role/*", "sts:AssumeRole"))
	must(bobSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(trusting), RoleSessionName: aws.String("x2")}))(t)
	_, err = bobSTS.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(closed), RoleSessionName: aws.String("x2")})
	wantErr(t, err, "AccessDenied", 403, "")
}

func TestExpiredSession(t *testing.T) {
	e := newEnv(t)
	root := e.rootIAM()
	roleArn := "arn:aws:iam::" + acctA + ":role/r"
	must(root.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("r"), AssumeRolePolicyDocument: aws.String(trust(acctA))}))(t)

	// The IAM layer's clock runs 20 minutes late: a 15-minute session it issues has expired
	// by the server's clock.
	e.clock.set(-20 * time.Minute)
	out := must(e.sts(rootA, secretA, "").AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("old"), DurationSeconds: aws.Int32(900)}))(t)
	e.clock.set(0)
	cr := out.Credentials
	_, err := e.sts(*cr.AccessKeyId, *cr.SecretAccessKey, *cr.SessionToken).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, err, "ExpiredToken", 403, "The security token included in the request is expired")

	// Sessions expired for more than a day are removed when the state is loaded.
	e.clock.set(-48 * time.Hour)
	e.reopen()
	ancient := must(e.sts(rootA, secretA, "").AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String(roleArn), RoleSessionName: aws.String("ancient"), DurationSeconds: aws.Int32(900)}))
	// The server's clock is real, and the request is signed with the real clock: fine.
	acr := ancient(t).Credentials
	e.clock.set(0)
	e.reopen()
	_, err = e.sts(*acr.AccessKeyId, *acr.SecretAccessKey, *acr.SessionToken).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, err, "InvalidClientTokenId", 403, "")
	_, err = e.sts(*cr.AccessKeyId, *cr.SecretAccessKey, *cr.SessionToken).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	wantErr(t, err, "ExpiredToken", 403, "")
}
