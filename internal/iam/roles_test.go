package iam

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsiam "github.com/aws/aws-sdk-go-v2/service/iam"
)

func TestRoles(t *testing.T) {
	e := newEnv(t)
	c := e.rootIAM()
	tp := trust("arn:aws:iam::" + acctA + ":root")
	r := must(c.CreateRole(ctx, &awsiam.CreateRoleInput{
		RoleName: aws.String("deployer"), Path: aws.String("/ci/"), AssumeRolePolicyDocument: aws.String(tp),
		Description: aws.String("CI deployments"), MaxSessionDuration: aws.Int32(7200),
	}))(t).Role
	if !regexp.MustCompile(`^AROA[A-Z0-9]{17}$`).MatchString(*r.RoleId) || *r.Arn != "arn:aws:iam::"+acctA+":role/ci/deployer" {
		t.Errorf("role %s %s", *r.RoleId, *r.Arn)
	}
	if doc, _ := url.QueryUnescape(aws.ToString(r.AssumeRolePolicyDocument)); doc != tp {
		t.Errorf("trust policy %q", doc)
	}
	got := must(c.GetRole(ctx, &awsiam.GetRoleInput{RoleName: aws.String("deployer")}))(t).Role
	if aws.ToInt32(got.MaxSessionDuration) != 7200 || aws.ToString(got.Description) != "CI deployments" || *got.Path != "/ci/" {
		t.Errorf("GetRole: %+v", got)
	}

	_, err := c.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("Deployer"), AssumeRolePolicyDocument: aws.String(tp)})
	wantErr(t, err, "EntityAlreadyExists", 409, "Role with name Deployer already exists.")
	_, err = c.GetRole(ctx, &awsiam.GetRoleInput{RoleName: aws.String("nope")})
	wantErr(t, err, "NoSuchEntity", 404, "The role with name nope cannot be found.")
	_, err = c.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("r2"), AssumeRolePolicyDocument: aws.String(tp), MaxSessionDuration: aws.Int32(60)})
	wantErr(t, err, "ValidationError", 400, "Value '60' at 'maxSessionDuration' failed to satisfy constraint: Member must have value greater than or equal to 3600")
	_, err = c.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("r2"), AssumeRolePolicyDocument: aws.String(allow("*", "s3:*"))})
	wantErr(t, err, "MalformedPolicyDocument", 400, "")
	_, err = c.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("r2"), AssumeRolePolicyDocument: aws.String(trust("arn:aws:iam::" + acctA + ":user/ghost"))})
	wantErr(t, err, "MalformedPolicyDocument", 400, `Invalid principal in policy: "AWS":"arn:aws:iam::`+acctA+`:user/ghost"`)
	_, err = c.CreateRole(ctx, &awsiam.CreateRoleInput{RoleName: aws.String("r2"), AssumeRolePolicyDocument: aws.String(trust(strings.Repeat("1", 12) + `","` + strings.Repeat("arn:aws:iam::333333333333:root\",\"", 60) + "333333333333"))})
	wantErr(t, err, "LimitExceeded", 409, "Cannot exceed quota for ACLSizePerRole: 2048")

	// Inline and managed policies of roles.
	pdoc := allow("*", "iam:List*")
	must(c.PutRolePolicy(ctx, &awsiam.PutRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String("list"), PolicyDocument: aws.String(pdoc)}))(t)
	rp := must(c.GetRolePolicy(ctx, &awsiam.GetRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String("list")}))(t)
	if doc, _ := url.QueryUnescape(*rp.PolicyDocument); doc != pdoc || *rp.RoleName != "deployer" {
		t.Errorf("GetRolePolicy: %s %q", *rp.RoleName, doc)
	}
	names := must(c.ListRolePolicies(ctx, &awsiam.ListRolePoliciesInput{RoleName: aws.String("deployer")}))(t).PolicyNames
	if strings.Join(names, ",") != "list" {
		t.Errorf("ListRolePolicies: %v", names)
	}
	_, err = c.GetRolePolicy(ctx, &awsiam.GetRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String("x")})
	wantErr(t, err, "NoSuchEntity", 404, "The role policy with name x cannot be found.")

	admin := "arn:aws:iam::aws:policy/AdministratorAccess"
	must(c.AttachRolePolicy(ctx, &awsiam.AttachRolePolicyInput{RoleName: aws.String("deployer"), PolicyArn: aws.String(admin)}))(t)
	must(c.AttachRolePolicy(ctx, &awsiam.AttachRolePolicyInput{RoleName: aws.String("deployer"), PolicyArn: aws.String(admin)}))(t)
	att := must(c.ListAttachedRolePolicies(ctx, &awsiam.ListAttachedRolePoliciesInput{RoleName: aws.String("deployer")}))(t).AttachedPolicies
	if len(att) != 1 || *att[0].PolicyArn != admin || *att[0].PolicyName != "AdministratorAccess" {
		t.Errorf("attached: %+v", att)
	}
	_, err = c.AttachRolePolicy(ctx, &awsiam.AttachRolePolicyInput{RoleName: aws.String("deployer"), PolicyArn: aws.String("arn:aws:iam::" + acctA + ":policy/missing")})
	wantErr(t, err, "NoSuchEntity", 404, "does not exist or is not attachable")
	_, err = c.AttachRolePolicy(ctx, &awsiam.AttachRolePolicyInput{RoleName: aws.String("deployer"), PolicyArn: aws.String("not-an-arn-but-long-enough")})
	wantErr(t, err, "InvalidInput", 400, "ARN not-an-arn-but-long-enough is not valid.")

	_, err = c.DeleteRole(ctx, &awsiam.DeleteRoleInput{RoleName: aws.String("deployer")})
	wantErr(t, err, "DeleteConflict", 409, "must delete policies first")
	must(c.DeleteRolePolicy(ctx, &awsiam.DeleteRolePolicyInput{RoleName: aws.String("deployer"), PolicyName: aws.String("list")}))(t)
	_, err = c.DeleteRole(ctx, &awsiam.DeleteRoleInput{RoleName: aws.String("deployer")})
	wantErr(t, err, "DeleteConflict", 409, "must detach all policies first")
	must(c.DetachRolePolicy(ctx, &awsiam.DetachRolePolicyInput{RoleName: aws.String("deployer"), PolicyArn: aws.String(admin)}))(t)
	_, err = c.DetachRolePolicy(ctx, &awsiam.DetachRolePolicyInput{RoleName: aws.String("deployer"), PolicyArn: aws.String(admin)})
	wantErr(t, err, "NoSuchEntity", 404, "was not found")

	must(c.UpdateRole(ctx, &awsiam.UpdateRoleInput{RoleName: aws.String("deployer"), MaxSessionDuration: aws.Int32(3600), Description: aws.String("")}))(t)
	newTrust := trust("arn:aws:iam::" + acctB + ":root")
	must(c.UpdateAssumeRolePolicy(ctx, &awsiam.UpdateAssumeRolePolicyInput{RoleName: aws.String("deployer"), PolicyDocument: aws.String(newTrust)}))(t)
	got = must(c.GetRole(ctx, &awsiam.GetRoleInput{RoleName: aws.String("deployer")}))(t).Role
	if doc, _ := url.QueryUnescape(*got.AssumeRolePolicyDocument); doc != newTrust || aws.ToInt32(got.MaxSessionDuration) != 3600 || got.Description != nil {
		t.Errorf("after updates: %+v", got)
	}

	list := must(c.ListRoles(ctx, &awsiam.ListRolesInput{PathPrefix: aws.String("/ci/")}))(t).Roles
	if len(list) != 1 || *list[0].RoleName != "deployer" {
		t.Errorf("ListRoles: %+v", list)
	}
	must(c.DeleteRole(ctx, &awsiam.DeleteRoleInput{RoleName: aws.String("deployer")}))(t)
	if n := len(must(c.ListRoles(ctx, &awsiam.ListRolesInput{}))(t).Roles); n != 0 {
		t.Errorf("%d roles left", n)
	}
}

func TestManagedPolicies(t *testing.T) {
	e := newEnv(t)
	c := e.rootIAM()
	v1 := allow("*", "iam:GetUser")
	p := must(c.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("readers"), Path: aws.String("/team/"), PolicyDocument: aws.String(v1), Description: aws.String("d")}))(t).Policy
	arn := "arn:aws:iam::" + acctA + ":policy/team/readers"
	if *p.Arn != arn || !regexp.MustCompile(`^ANPA[A-Z0-9]{17}$`).MatchString(*p.PolicyId) || *p.DefaultVersionId != "v1" || !p.IsAttachable {
		t.Errorf("created %+v", p)
	}
	_, err := c.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("readers"), PolicyDocument: aws.String(v1)})
	wantErr(t, err, "EntityAlreadyExists", 409, "A policy called readers already exists. Duplicate names are not allowed.")
	_, err = c.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("bad"), PolicyDocument: aws.String(`{"Statement":[]`)})
	wantErr(t, err, "MalformedPolicyDocument", 400, "")
	_, err = c.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String("big"), PolicyDocument: aws.String(allow("arn:aws:s3:::"+strings.Repeat("b", 6200), "s3:GetObject"))})
	wantErr(t, err, "LimitExceeded", 409, "Cannot exceed quota for PolicySize: 6144")
	_, err = c.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String("arn:aws:iam::" + acctA + ":policy/nope")})
	wantErr(t, err, "NoSuchEntity", 404, "Policy arn:aws:iam::"+acctA+":policy/nope was not found.")

	// Versions: at most five; the default cannot be deleted.
	for i := 2; i <= 5; i++ {
		pv := must(c.CreatePolicyVersion(ctx, &awsiam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(allow("*", "iam:ListUsers")), SetAsDefault: i == 3}))(t).PolicyVersion
		if want := "v" + string(rune('0'+i)); *pv.VersionId != want || pv.IsDefaultVersion != (i == 3) {
			t.Errorf("version %s default=%v; want %s default=%v", *pv.VersionId, pv.IsDefaultVersion, want, i == 3)
		}
	}
	_, err = c.CreatePolicyVersion(ctx, &awsiam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(v1)})
	wantErr(t, err, "LimitExceeded", 409, "A managed policy can have up to 5 versions.")
	got := must(c.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String(arn)}))(t).Policy
	if *got.DefaultVersionId != "v3" {
		t.Errorf("default version %s; want v3", *got.DefaultVersionId)
	}
	ver := must(c.GetPolicyVersion(ctx, &awsiam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")}))(t).PolicyVersion
	if doc, _ := url.QueryUnescape(*ver.Document); doc != v1 || ver.IsDefaultVersion {
		t.Errorf("v1: %q default=%v", doc, ver.IsDefaultVersion)
	}
	_, err = c.GetPolicyVersion(ctx, &awsiam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v9")})
	wantErr(t, err, "NoSuchEntity", 404, "")
	_, err = c.GetPolicyVersion(ctx, &awsiam.GetPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("x1")})
	wantErr(t, err, "ValidationError", 400, "at 'versionId' failed to satisfy constraint")
	_, err = c.DeletePolicyVersion(ctx, &awsiam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v3")})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete the default version of a policy.")
	must(c.DeletePolicyVersion(ctx, &awsiam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v5")}))(t)
	pv := must(c.CreatePolicyVersion(ctx, &awsiam.CreatePolicyVersionInput{PolicyArn: aws.String(arn), PolicyDocument: aws.String(v1)}))(t).PolicyVersion
	if *pv.VersionId != "v6" {
		t.Errorf("next version %s; want v6", *pv.VersionId)
	}
	vers := must(c.ListPolicyVersions(ctx, &awsiam.ListPolicyVersionsInput{PolicyArn: aws.String(arn)}))(t).Versions
	if len(vers) != 5 || *vers[0].VersionId != "v6" {
		t.Errorf("versions: %d, first %s", len(vers), *vers[0].VersionId)
	}
	must(c.SetDefaultPolicyVersion(ctx, &awsiam.SetDefaultPolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String("v1")}))(t)

	// Attached policies cannot be deleted.
	must(c.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String("bob")}))(t)
	must(c.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(arn)}))(t)
	if n := *must(c.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String(arn)}))(t).Policy.AttachmentCount; n != 1 {
		t.Errorf("attachment count %d; want 1", n)
	}
	ents := must(c.ListEntitiesForPolicy(ctx, &awsiam.ListEntitiesForPolicyInput{PolicyArn: aws.String(arn)}))(t)
	if len(ents.PolicyUsers) != 1 || *ents.PolicyUsers[0].UserName != "bob" || len(ents.PolicyRoles) != 0 {
		t.Errorf("entities: %+v", ents)
	}
	att := must(c.ListAttachedUserPolicies(ctx, &awsiam.ListAttachedUserPoliciesInput{UserName: aws.String("bob")}))(t).AttachedPolicies
	if len(att) != 1 || *att[0].PolicyArn != arn {
		t.Errorf("attached to bob: %+v", att)
	}
	_, err = c.DeletePolicy(ctx, &awsiam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	wantErr(t, err, "DeleteConflict", 409, "Cannot delete a policy attached to entities.")
	_, err = c.DeleteUser(ctx, &awsiam.DeleteUserInput{UserName: aws.String("bob")})
	wantErr(t, err, "DeleteConflict", 409, "must detach all policies first")
	must(c.DetachUserPolicy(ctx, &awsiam.DetachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String(arn)}))(t)
	_, err = c.DeletePolicy(ctx, &awsiam.DeletePolicyInput{PolicyArn: aws.String(arn)})
	wantErr(t, err, "DeleteConflict", 409, "more than one version")
	for _, v := range []string{"v2", "v3", "v4", "v6"} {
		must(c.DeletePolicyVersion(ctx, &awsiam.DeletePolicyVersionInput{PolicyArn: aws.String(arn), VersionId: aws.String(v)}))(t)
	}
	must(c.DeletePolicy(ctx, &awsiam.DeletePolicyInput{PolicyArn: aws.String(arn)}))(t)
	_, err = c.GetPolicy(ctx, &awsiam.GetPolicyInput{PolicyArn: aws.String(arn)})
	wantErr(t, err, "NoSuchEntity", 404, "")

	// Listing: local, AWS managed, attached only.
	for _, n := range []string{"a", "b", "c"} {
		must(c.CreatePolicy(ctx, &awsiam.CreatePolicyInput{PolicyName: aws.String(n), PolicyDocument: aws.String(v1)}))(t)
	}
	local := must(c.ListPolicies(ctx, &awsiam.ListPoliciesInput{Scope: "Local", MaxItems: aws.Int32(2)}))(t)
	if len(local.Policies) != 2 || !local.IsTruncated {
		t.Errorf("local page: %d truncated=%v", len(local.Policies), local.IsTruncated)
	}
	rest := must(c.ListPolicies(ctx, &awsiam.ListPoliciesInput{Scope: "Local", Marker: local.Marker}))(t)
	if len(rest.Policies) != 1 || *rest.Policies[0].PolicyName != "c" {
		t.Errorf("local page 2: %+v", rest.Policies)
	}
	awsPolicies := must(c.ListPolicies(ctx, &awsiam.ListPoliciesInput{Scope: "AWS"}))(t).Policies
	found := false
	for _, p := range awsPolicies {
		found = found || *p.Arn == "arn:aws:iam::aws:policy/AdministratorAccess"
	}
	if !found {
		t.Errorf("AdministratorAccess not listed among %d AWS managed policies", len(awsPolicies))
	}
	must(c.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String("arn:aws:iam::" + acctA + ":policy/b")}))(t)
	only := must(c.ListPolicies(ctx, &awsiam.ListPoliciesInput{OnlyAttached: true}))(t).Policies
	if len(only) != 1 || *only[0].PolicyName != "b" || *only[0].AttachmentCount != 1 {
		t.Errorf("only attached: %+v", only)
	}
	_, err = c.CreatePolicyVersion(ctx, &awsiam.CreatePolicyVersionInput{PolicyArn: aws.String("arn:aws:iam::aws:policy/AdministratorAccess"), PolicyDocument: aws.String(v1)})
	wantErr(t, err, "AccessDenied", 403, "")

	// A policy of another account is not attachable.
	_, err = c.AttachUserPolicy(ctx, &awsiam.AttachUserPolicyInput{UserName: aws.String("bob"), PolicyArn: aws.String("arn:aws:iam::" + acctB + ":policy/b")})
	wantErr(t, err, "NoSuchEntity", 404, "")
}

func TestGroups(t *testing.T) {
	e := newEnv(t)
	c := e.rootIAM()
	g := must(c.CreateGroup(ctx, &awsiam.CreateGroupInput{GroupName: aws.String("devs")}))(t).Group
	if !regexp.MustCompile(`^AGPA[A-Z0-9]{17}$`).MatchString(*g.GroupId) || *g.Arn != "arn:aws:iam::"+acctA+":group/devs" {
		t.Errorf("group %s %s", *g.GroupId, *g.Arn)
	}
	_, err := c.CreateGroup(ctx, &awsiam.CreateGroupInput{GroupName: aws.String("devs")})
	wantErr(t, err, "EntityAlreadyExists", 409, "Group with name devs already exists.")
	must(c.CreateGroup(ctx, &awsiam.CreateGroupInput{GroupName: aws.String("ops"), Path: aws.String("/x/")}))(t)
	for _, u := range []string{"ann", "bob", "cid"} {
		must(c.CreateUser(ctx, &awsiam.CreateUserInput{UserName: aws.String(u)}))(t)
		must(c.AddUserToGroup(ctx, &awsiam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String(u)}))(t)
	}
	must(c.AddUserToGroup(ctx, &awsiam.AddUserToGroupInput{GroupName: aws.String("ops"), UserName: aws.String("bob")}))(t)
	_, err = c.AddUserToGroup(ctx, &awsiam.AddUserToGroupInput{GroupName: aws.String("nope"), UserName: aws.String("bob")})
	wantErr(t, err, "NoSuchEntity", 404, "The group with name nope cannot be found.")
	_, err = c.AddUserToGroup(ctx, &awsiam.AddUserToGroupInput{GroupName: aws.String("devs"), UserName: aws.String("nope")})
	wantErr(t, err, "NoSuchEntity", 404, "The user with name nope cannot be found.")

	page := must(c.GetGroup(ctx, &awsiam.GetGroupInput{GroupName: aws.String("devs"), MaxItems: aws.Int32(2)}))(t)
	if len(page.Users) != 2 || !page.IsTruncated || *page.Group.GroupName != "devs" {
		t.Errorf("GetGroup page 1: %d users truncated=%v", len(page.Users), page.IsTruncated)
	}
	page2 := must(c.GetGroup(ctx, &awsiam.GetGroupInput{GroupName: aws.String("devs"), Marker: page.Marker}))(t)
	if len(page2.Users) != 1 || *page2.Users[0].UserName != "cid" || page2.IsTruncated {
		t.Errorf("GetGroup page 2: %+v", page2.Users)
	}
	gs := must(c.ListGroupsForUser(ctx, &awsiam.ListGroupsForUserInput{UserName: aws.String("bob")}))(t).Groups
	if len(gs) != 2 || *gs[0].GroupName != "devs" || *gs[1].GroupName != "ops" {
		t.Errorf("bob's groups: %+v", gs)
	}
	all := must(c.ListGroups(ctx, &awsiam.ListGroupsInput{PathPrefix: aws.String("/x/")}))(t).Groups
	if len(all) != 1 || *all[0].GroupName != "ops" {
		t.Errorf("ListGroups /x/: %+v", all)
	}

	gdoc := allow("*", "iam:ListUsers")
	must(c.PutGroupPolicy(ctx, &awsiam.PutGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("list"), PolicyDocument: aws.String(gdoc)}))(t)
	gp := must(c.GetGroupPolicy(ctx, &awsiam.GetGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("list")}))(t)
	if doc, _ := url.QueryUnescape(*gp.PolicyDocument); doc != gdoc {
		t.Errorf("group policy %q", doc)
	}
	if n := must(c.ListGroupPolicies(ctx, &awsiam.ListGroupPoliciesInput{GroupName: aws.String("devs")}))(t).PolicyNames; len(n) != 1 {
		t.Errorf("group policies %v", n)
	}
	must(c.AttachGroupPolicy(ctx, &awsiam.AttachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMReadOnlyAccess")}))(t)
	if a := must(c.ListAttachedGroupPolicies(ctx, &awsiam.ListAttachedGroupPoliciesInput{GroupName: aws.String("devs")}))(t).AttachedPolicies; len(a) != 1 {
		t.Errorf("group attached %v", a)
	}
	big := allow("arn:aws:s3:::"+strings.Repeat("g", 5100), "s3:GetObject")
	_, err = c.PutGroupPolicy(ctx, &awsiam.PutGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("big"), PolicyDocument: aws.String(big)})
	wantErr(t, err, "LimitExceeded", 409, "Maximum policy size of 5120 bytes exceeded for group devs")

	_, err = c.DeleteGroup(ctx, &awsiam.DeleteGroupInput{GroupName: aws.String("devs")})
	wantErr(t, err, "DeleteConflict", 409, "must remove users from group first")
	_, err = c.DeleteUser(ctx, &awsiam.DeleteUserInput{UserName: aws.String("ann")})
	wantErr(t, err, "DeleteConflict", 409, "")
	for _, u := range []string{"ann", "bob", "cid"} {
		must(c.RemoveUserFromGroup(ctx, &awsiam.RemoveUserFromGroupInput{GroupName: aws.String("devs"), UserName: aws.String(u)}))(t)
	}
	_, err = c.RemoveUserFromGroup(ctx, &awsiam.RemoveUserFromGroupInput{GroupName: aws.String("devs"), UserName: aws.String("ann")})
	wantErr(t, err, "NoSuchEntity", 404, "")
	must(c.DeleteUser(ctx, &awsiam.DeleteUserInput{UserName: aws.String("ann")}))(t)
	_, err = c.DeleteGroup(ctx, &awsiam.DeleteGroupInput{GroupName: aws.String("devs")})
	wantErr(t, err, "DeleteConflict", 409, "must delete policies first")
	must(c.DeleteGroupPolicy(ctx, &awsiam.DeleteGroupPolicyInput{GroupName: aws.String("devs"), PolicyName: aws.String("list")}))(t)
	must(c.DetachGroupPolicy(ctx, &awsiam.DetachGroupPolicyInput{GroupName: aws.String("devs"), PolicyArn: aws.String("arn:aws:iam::aws:policy/IAMReadOnlyAccess")}))(t)
	must(c.DeleteGroup(ctx, &awsiam.DeleteGroupInput{GroupName: aws.String("devs")}))(t)
	_, err = c.GetGroup(ctx, &awsiam.GetGroupInput{GroupName: aws.String("devs")})
	wantErr(t, err, "NoSuchEntity", 404, "")
}
