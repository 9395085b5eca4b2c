package opentrail

import (
	"encoding/json"
	"time"
)

// EventVersion is the CloudTrail record format version OpenTrail writes.
const EventVersion = "1.11"

// Event types and categories as CloudTrail writes them.
const (
	EventTypeAPICall      = "AwsApiCall"
	EventTypeServiceEvent = "AwsServiceEvent"
	EventTypeConsoleLogin = "AwsConsoleSignIn"
	EventTypeInsight      = "AwsCloudTrailInsight"

	CategoryManagement = "Management"
	CategoryData       = "Data"
	CategoryInsight    = "Insight"
)

// TimeFormat is the layout of eventTime: UTC, whole seconds.
const TimeFormat = "2006-01-02T15:04:05Z"

// Event is one CloudTrail record. Field order follows the order observed in AWS's delivered
// log files so that serialized records look like AWS's byte for byte where possible.
// RequestParameters and ResponseElements are always present (null when empty), as AWS writes them.
type Event struct {
	EventVersion                 string          `json:"eventVersion"`
	UserIdentity                 *UserIdentity   `json:"userIdentity,omitempty"`
	EventTime                    string          `json:"eventTime"`
	EventSource                  string          `json:"eventSource"`
	EventName                    string          `json:"eventName"`
	AWSRegion                    string          `json:"awsRegion"`
	SourceIPAddress              string          `json:"sourceIPAddress"`
	UserAgent                    string          `json:"userAgent,omitempty"`
	ErrorCode                    string          `json:"errorCode,omitempty"`
	ErrorMessage                 string          `json:"errorMessage,omitempty"`
	RequestParameters            json.RawMessage `json:"requestParameters"`
	ResponseElements             json.RawMessage `json:"responseElements"`
	AdditionalEventData          json.RawMessage `json:"additionalEventData,omitempty"`
	RequestID                    string          `json:"requestID,omitempty"`
	EventID                      string          `json:"eventID"`
	ReadOnly                     bool            `json:"readOnly"`
	Resources                    []Resource      `json:"resources,omitempty"`
	EventType                    string          `json:"eventType"`
	APIVersion                   string          `json:"apiVersion,omitempty"`
	ManagementEvent              bool            `json:"managementEvent"`
	RecipientAccountID           string          `json:"recipientAccountId"`
	SharedEventID                string          `json:"sharedEventID,omitempty"`
	EventCategory                string          `json:"eventCategory"`
	TLSDetails                   *TLSDetails     `json:"tlsDetails,omitempty"`
	SessionCredentialFromConsole string          `json:"sessionCredentialFromConsole,omitempty"`
}

// Time parses EventTime. It returns the zero time when EventTime is malformed.
func (e *Event) Time() time.Time {
	t, _ := time.Parse(TimeFormat, e.EventTime)
	return t
}

// Resource is one entry of a record's resources list. Note the upper-case ARN key, as AWS writes it.
type Resource struct {
	ARN       string `json:"ARN,omitempty"`
	AccountID string `json:"accountId,omitempty"`
	Type      string `json:"type,omitempty"`
}

// TLSDetails describes the TLS connection a call arrived on.
type TLSDetails struct {
	TLSVersion               string `json:"tlsVersion,omitempty"`
	CipherSuite              string `json:"cipherSuite,omitempty"`
	ClientProvidedHostHeader string `json:"clientProvidedHostHeader,omitempty"`
}

// UserIdentity is the userIdentity element of a record.
type UserIdentity struct {
	Type           string          `json:"type"`
	PrincipalID    string          `json:"principalId,omitempty"`
	ARN            string          `json:"arn,omitempty"`
	AccountID      string          `json:"accountId,omitempty"`
	AccessKeyID    string          `json:"accessKeyId,omitempty"`
	UserName       string          `json:"userName,omitempty"`
	SessionContext *SessionContext `json:"sessionContext,omitempty"`
	InvokedBy      string          `json:"invokedBy,omitempty"`
}

// SessionContext describes the temporary credentials a call was signed with.
type SessionContext struct {
	SessionIssuer       SessionIssuer     `json:"sessionIssuer"`
	WebIDFederationData map[string]string `json:"webIdFederationData"`
	Attributes          SessionAttributes `json:"attributes"`
}

// SessionIssuer is the identity that issued temporary credentials; empty when there is none.
type SessionIssuer struct {
	Type        string `json:"type,omitempty"`
	PrincipalID string `json:"principalId,omitempty"`
	ARN         string `json:"arn,omitempty"`
	AccountID   string `json:"accountId,omitempty"`
	UserName    string `json:"userName,omitempty"`
}

// SessionAttributes holds the creation date and MFA flag (both strings, as AWS writes them).
type SessionAttributes struct {
	CreationDate     string `json:"creationDate"`
	MFAAuthenticated string `json:"mfaAuthenticated"`
}
