package iam

import (
	"encoding/json"
	"encoding/xml"
	"net/url"
	"strings"
	"time"
)

// Output shapes of the IAM and STS models. Field names are the model's member names (hence
// UserId rather than UserID, here and in the input structures, which the Query decoder fills by
// field name): the Query protocol writes them as XML elements, and the server renders them
// (camel-cased) as a record's responseElements.

// timestamp is a model timestamp: ISO 8601 UTC on the wire, and the
// "Jan 2, 2006, 3:04:05 PM" form that CloudTrail records of IAM and STS calls show.
type timestamp time.Time

// MarshalText writes the wire form.
func (t timestamp) MarshalText() ([]byte, error) {
	return []byte(time.Time(t).UTC().Format("2006-01-02T15:04:05Z")), nil
}

// MarshalJSON writes the record form.
func (t timestamp) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Time(t).UTC().Format("Jan 2, 2006, 3:04:05 PM"))
}

// members is a Query-protocol list: an element with one <member> child per item. The element
// is written even when the list is empty, as AWS does for required lists.
type members[T any] []T

// MarshalXML writes the list.
func (l members[T]) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	member := xml.StartElement{Name: xml.Name{Local: "member"}}
	for i := range l {
		if err := e.EncodeElement(l[i], member); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

// urlEncode encodes a policy document as IAM returns documents: percent-encoded.
func urlEncode(doc string) string {
	return strings.ReplaceAll(url.QueryEscape(doc), "+", "%20")
}

type userShape struct {
	Path       string `xml:",omitempty" json:",omitempty"`
	UserName   string `xml:",omitempty" json:",omitempty"`
	UserId     string
	Arn        string
	CreateDate timestamp
	Tags       members[tag] `xml:",omitempty" json:",omitempty"`
}

type roleLastUsed struct {
	LastUsedDate *timestamp `xml:",omitempty" json:",omitempty"`
	Region       string     `xml:",omitempty" json:",omitempty"`
}

type roleShape struct {
	Path                     string
	RoleName                 string
	RoleId                   string
	Arn                      string
	CreateDate               timestamp
	AssumeRolePolicyDocument string        `xml:",omitempty" json:",omitempty"`
	Description              string        `xml:",omitempty" json:",omitempty"`
	MaxSessionDuration       int32         `xml:",omitempty" json:",omitempty"`
	Tags                     members[tag]  `xml:",omitempty" json:",omitempty"`
	RoleLastUsed             *roleLastUsed `xml:",omitempty" json:",omitempty"`
}

type groupShape struct {
	Path       string
	GroupName  string
	GroupId    string
	Arn        string
	CreateDate timestamp
}

type policyShape struct {
	PolicyName                    string
	PolicyId                      string
	Arn                           string
	Path                          string
	DefaultVersionId              string
	AttachmentCount               int
	PermissionsBoundaryUsageCount int
	IsAttachable                  bool
	Description                   string `xml:",omitempty" json:",omitempty"`
	CreateDate                    timestamp
	UpdateDate                    timestamp
	Tags                          members[tag] `xml:",omitempty" json:",omitempty"`
}

type policyVersionShape struct {
	Document         string `xml:",omitempty" json:",omitempty"`
	VersionId        string
	IsDefaultVersion bool
	CreateDate       timestamp
}

type attachedPolicyShape struct {
	PolicyName string
	PolicyArn  string
}

type accessKeyShape struct {
	UserName        string `xml:",omitempty" json:",omitempty"`
	AccessKeyId     string
	Status          string
	SecretAccessKey string
	CreateDate      timestamp
}

type accessKeyMetadataShape struct {
	UserName    string `xml:",omitempty" json:",omitempty"`
	AccessKeyId string
	Status      string
	CreateDate  timestamp
}

func (e *entity) userShape(acct string) userShape {
	return userShape{Path: e.Path, UserName: e.Name, UserId: e.ID, Arn: e.arn(acct), CreateDate: timestamp(e.Created), Tags: e.Tags}
}

func (e *entity) roleShape(acct string) roleShape {
	return roleShape{
		Path: e.Path, RoleName: e.Name, RoleId: e.ID, Arn: e.arn(acct), CreateDate: timestamp(e.Created),
		AssumeRolePolicyDocument: urlEncode(e.Trust), Description: e.Description,
		MaxSessionDuration: e.MaxSession, Tags: e.Tags,
	}
}

func (e *entity) groupShape(acct string) groupShape {
	return groupShape{Path: e.Path, GroupName: e.Name, GroupId: e.ID, Arn: e.arn(acct), CreateDate: timestamp(e.Created)}
}

func (p *managedPolicy) shape(attachments int) policyShape {
	return policyShape{
		PolicyName: p.Name, PolicyId: p.ID, Arn: p.arn(), Path: p.Path, DefaultVersionId: p.Default,
		AttachmentCount: attachments, IsAttachable: true, Description: p.Description,
		CreateDate: timestamp(p.Created), UpdateDate: timestamp(p.Updated), Tags: p.Tags,
	}
}

func (p *managedPolicy) versionShape(v *policyVersion, withDocument bool) policyVersionShape {
	s := policyVersionShape{VersionId: v.ID, IsDefaultVersion: v.ID == p.Default, CreateDate: timestamp(v.Created)}
	if withDocument {
		s.Document = urlEncode(v.Document)
	}
	return s
}
