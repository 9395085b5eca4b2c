package iam

import (
	"cmp"

	"github.com/opentrail/opentrail/internal/awsproto"
	"github.com/opentrail/opentrail/internal/server"
)

// IAM wire constants.
const (
	iamVersion = "2010-05-08"
	iamXMLNS   = "https://iam.amazonaws.com/doc/2010-05-08/"
)

// opts returns OpOptions that authorize against the resource computed from the input.
func opts[In any](readOnly bool, resource func(c *server.Call, in *In) string) server.OpOptions[In] {
	return server.OpOptions[In]{ReadOnly: readOnly, Resource: resource}
}

// kindRes authorizes against the ARN of the entity named by the input.
func kindRes[In any](m *IAM, k kind, name func(*In) string) func(*server.Call, *In) string {
	return func(c *server.Call, in *In) string { return m.entityResource(c, k, name(in)) }
}

// listRes authorizes list operations against "arn:aws:iam::<acct>:<type>/", as IAM does.
func listRes[In any](typ string) func(*server.Call, *In) string {
	return func(c *server.Call, _ *In) string { return "arn:aws:iam::" + c.Account() + ":" + typ + "/" }
}

func (m *IAM) iamService() *server.Service {
	svc := &server.Service{
		Name:         "iam",
		EventSource:  "iam.amazonaws.com",
		APIVersion:   iamVersion,
		RecordRegion: "us-east-1",
		Wire:         awsproto.Wire{Protocol: awsproto.Query, XMLNamespace: iamXMLNS},
	}
	const ro, rw = true, false

	// Users.
	svc.Add(
		server.Op("CreateUser", opts(rw, func(c *server.Call, in *createUserInput) string {
			return entityARN(c.Account(), kindUser, cmp.Or(in.Path, "/"), in.UserName)
		}), m.createUser),
		server.Op("GetUser", opts(ro, func(c *server.Call, in *userNameInput) string { return m.selfResource(c, in.UserName) }), m.getUser),
		server.Op("ListUsers", opts(ro, listRes[listInput]("user")), m.listUsers),
		server.Op("DeleteUser", opts(rw, kindRes(m, kindUser, func(in *userNameInput) string { return in.UserName })), m.deleteUser),
		server.Op("PutUserPolicy", opts(rw, kindRes(m, kindUser, func(in *userPolicyInput) string { return in.UserName })), m.putUserPolicy),
		server.Op("GetUserPolicy", opts(ro, kindRes(m, kindUser, func(in *userPolicyInput) string { return in.UserName })), m.getUserPolicy),
		server.Op("DeleteUserPolicy", opts(rw, kindRes(m, kindUser, func(in *userPolicyInput) string { return in.UserName })), m.deleteUserPolicy),
		server.Op("ListUserPolicies", opts(ro, kindRes(m, kindUser, func(in *listUserPoliciesInput) string { return in.UserName })), m.listUserPolicies),
		server.Op("AttachUserPolicy", opts(rw, kindRes(m, kindUser, func(in *userPolicyARNInput) string { return in.UserName })), m.attachUserPolicy),
		server.Op("DetachUserPolicy", opts(rw, kindRes(m, kindUser, func(in *userPolicyARNInput) string { return in.UserName })), m.detachUserPolicy),
		server.Op("ListAttachedUserPolicies", opts(ro, kindRes(m, kindUser, func(in *listAttachedUserPoliciesInput) string { return in.UserName })), m.listAttachedUserPolicies),
		server.Op("ListGroupsForUser", opts(ro, kindRes(m, kindUser, func(in *listGroupsForUserInput) string { return in.UserName })), m.listGroupsForUser),
	)

	// Access keys.
	svc.Add(
		server.Op("CreateAccessKey", opts(rw, func(c *server.Call, in *userNameInput) string { return m.selfResource(c, in.UserName) }), m.createAccessKey),
		server.Op("ListAccessKeys", opts(ro, func(c *server.Call, in *listAccessKeysInput) string { return m.selfResource(c, in.UserName) }), m.listAccessKeys),
		server.Op("UpdateAccessKey", opts(rw, func(c *server.Call, in *accessKeyInput) string { return m.selfResource(c, in.UserName) }), m.updateAccessKey),
		server.Op("DeleteAccessKey", opts(rw, func(c *server.Call, in *accessKeyInput) string { return m.selfResource(c, in.UserName) }), m.deleteAccessKey),
	)

	// Roles.
	svc.Add(
		server.Op("CreateRole", opts(rw, func(c *server.Call, in *createRoleInput) string {
			return entityARN(c.Account(), kindRole, cmp.Or(in.Path, "/"), in.RoleName)
		}), m.createRole),
		server.Op("GetRole", opts(ro, kindRes(m, kindRole, func(in *roleNameInput) string { return in.RoleName })), m.getRole),
		server.Op("ListRoles", opts(ro, listRes[listInput]("role")), m.listRoles),
		server.Op("DeleteRole", opts(rw, kindRes(m, kindRole, func(in *roleNameInput) string { return in.RoleName })), m.deleteRole),
		server.Op("UpdateRole", opts(rw, kindRes(m, kindRole, func(in *updateRoleInput) string { return in.RoleName })), m.updateRole),
		server.Op("UpdateAssumeRolePolicy", opts(rw, kindRes(m, kindRole, func(in *updateAssumeRolePolicyInput) string { return in.RoleName })), m.updateAssumeRolePolicy),
		server.Op("PutRolePolicy", opts(rw, kindRes(m, kindRole, func(in *rolePolicyInput) string { return in.RoleName })), m.putRolePolicy),
		server.Op("GetRolePolicy", opts(ro, kindRes(m, kindRole, func(in *rolePolicyInput) string { return in.RoleName })), m.getRolePolicy),
		server.Op("DeleteRolePolicy", opts(rw, kindRes(m, kindRole, func(in *rolePolicyInput) string { return in.RoleName })), m.deleteRolePolicy),
		server.Op("ListRolePolicies", opts(ro, kindRes(m, kindRole, func(in *listRolePoliciesInput) string { return in.RoleName })), m.listRolePolicies),
		server.Op("AttachRolePolicy", opts(rw, kindRes(m, kindRole, func(in *rolePolicyARNInput) string { return in.RoleName })), m.attachRolePolicy),
		server.Op("DetachRolePolicy", opts(rw, kindRes(m, kindRole, func(in *rolePolicyARNInput) string { return in.RoleName })), m.detachRolePolicy),
		server.Op("ListAttachedRolePolicies", opts(ro, kindRes(m, kindRole, func(in *listAttachedRolePoliciesInput) string { return in.RoleName })), m.listAttachedRolePolicies),
	)

	// Groups.
	svc.Add(
		server.Op("CreateGroup", opts(rw, func(c *server.Call, in *createGroupInput) string {
			return entityARN(c.Account(), kindGroup, cmp.Or(in.Path, "/"), in.GroupName)
		}), m.createGroup),
		server.Op("GetGroup", opts(ro, kindRes(m, kindGroup, func(in *getGroupInput) string { return in.GroupName })), m.getGroup),
		server.Op("ListGroups", opts(ro, listRes[listInput]("group")), m.listGroups),
		server.Op("DeleteGroup", opts(rw, kindRes(m, kindGroup, func(in *groupNameInput) string { return in.GroupName })), m.deleteGroup),
		server.Op("AddUserToGroup", opts(rw, kindRes(m, kindGroup, func(in *groupMemberInput) string { return in.GroupName })), m.addUserToGroup),
		server.Op("RemoveUserFromGroup", opts(rw, kindRes(m, kindGroup, func(in *groupMemberInput) string { return in.GroupName })), m.removeUserFromGroup),
		server.Op("PutGroupPolicy", opts(rw, kindRes(m, kindGroup, func(in *groupPolicyInput) string { return in.GroupName })), m.putGroupPolicy),
		server.Op("GetGroupPolicy", opts(ro, kindRes(m, kindGroup, func(in *groupPolicyInput) string { return in.GroupName })), m.getGroupPolicy),
		server.Op("DeleteGroupPolicy", opts(rw, kindRes(m, kindGroup, func(in *groupPolicyInput) string { return in.GroupName })), m.deleteGroupPolicy),
		server.Op("ListGroupPolicies", opts(ro, kindRes(m, kindGroup, func(in *listGroupPoliciesInput) string { return in.GroupName })), m.listGroupPolicies),
		server.Op("AttachGroupPolicy", opts(rw, kindRes(m, kindGroup, func(in *groupPolicyARNInput) string { return in.GroupName })), m.attachGroupPolicy),
		server.Op("DetachGroupPolicy", opts(rw, kindRes(m, kindGroup, func(in *groupPolicyARNInput) string { return in.GroupName })), m.detachGroupPolicy),
		server.Op("ListAttachedGroupPolicies", opts(ro, kindRes(m, kindGroup, func(in *listAttachedGroupPoliciesInput) string { return in.GroupName })), m.listAttachedGroupPolicies),
	)

	// Managed policies.
	policyArn := func(c *server.Call, in *policyARNInput) string { return in.PolicyArn }
	versionArn := func(c *server.Call, in *policyVersionInput) string { return in.PolicyArn }
	svc.Add(
		server.Op("CreatePolicy", opts(rw, func(c *server.Call, in *createPolicyInput) string {
			return policyARN(c.Account(), cmp.Or(in.Path, "/"), in.PolicyName)
		}), m.createPolicy),
		server.Op("GetPolicy", opts(ro, policyArn), m.getPolicy),
		server.Op("DeletePolicy", opts(rw, policyArn), m.deletePolicy),
		server.Op("ListPolicies", opts(ro, listRes[listPoliciesInput]("policy")), m.listPolicies),
		server.Op("CreatePolicyVersion", opts(rw, func(c *server.Call, in *createPolicyVersionInput) string { return in.PolicyArn }), m.createPolicyVersion),
		server.Op("GetPolicyVersion", opts(ro, versionArn), m.getPolicyVersion),
		server.Op("DeletePolicyVersion", opts(rw, versionArn), m.deletePolicyVersion),
		server.Op("SetDefaultPolicyVersion", opts(rw, versionArn), m.setDefaultPolicyVersion),
		server.Op("ListPolicyVersions", opts(ro, func(c *server.Call, in *listPolicyVersionsInput) string { return in.PolicyArn }), m.listPolicyVersions),
		server.Op("ListEntitiesForPolicy", opts(ro, func(c *server.Call, in *listEntitiesForPolicyInput) string { return in.PolicyArn }), m.listEntitiesForPolicy),
	)
	return svc
}
