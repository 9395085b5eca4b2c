package sns

import (
	"encoding/base64"
	"encoding/xml"
	"sort"
	"strings"
)

// Output shapes of the SNS model. Field names are the model's member names: the Query
// protocol writes them as XML elements, and the server renders them (camel-cased) as a
// record's responseElements.

// members is a Query-protocol list: an element with one <member> child per item, written even
// when the list is empty.
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

// attrMap is a Query-protocol string map: <entry><key>…</key><value>…</value></entry>, in
// key order.
type attrMap map[string]string

// MarshalXML writes the map.
func (m attrMap) MarshalXML(e *xml.Encoder, start xml.StartElement) error {
	if err := e.EncodeToken(start); err != nil {
		return err
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	type entry struct {
		Key   string `xml:"key"`
		Value string `xml:"value"`
	}
	for _, k := range keys {
		if err := e.EncodeElement(entry{k, m[k]}, xml.StartElement{Name: xml.Name{Local: "entry"}}); err != nil {
			return err
		}
	}
	return e.EncodeToken(start.End())
}

type topicArnOutput struct{ TopicArn string }

type topicMember struct{ TopicArn string }

type listTopicsOutput struct {
	Topics    members[topicMember]
	NextToken string `xml:",omitempty" json:",omitempty"`
}

type attributesOutput struct{ Attributes attrMap }

type subscriptionArnOutput struct{ SubscriptionArn string }

type subscriptionMember struct {
	SubscriptionArn string
	Owner           string
	Protocol        string
	Endpoint        string
	TopicArn        string
}

type listSubscriptionsOutput struct {
	Subscriptions members[subscriptionMember]
	NextToken     string `xml:",omitempty" json:",omitempty"`
}

type publishOutput struct{ MessageId string }

type listTagsOutput struct{ Tags members[Tag] }

// emptyResult is the output of operations whose model output has no members but a result
// wrapper (TagResource, UntagResource): SDKs expect the empty <OpResult/> element.
type emptyResult struct{}

// pendingARN is what lists show as the ARN of an unconfirmed subscription, and what Subscribe
// answers for one.
const (
	pendingListARN      = "PendingConfirmation"
	pendingSubscribeARN = "pending confirmation"
)

func (s *subscription) member() subscriptionMember {
	arn := s.ARN
	if s.Pending {
		arn = pendingListARN
	}
	return subscriptionMember{SubscriptionArn: arn, Owner: s.Owner, Protocol: s.Protocol, Endpoint: s.Endpoint, TopicArn: s.TopicARN}
}

// pageToken encodes the sort key of the first item of the next page; parsePageToken decodes
// it. Tokens are opaque to clients.
func pageToken(key string) string { return base64.RawURLEncoding.EncodeToString([]byte(key)) }

func parsePageToken(tok string) (string, bool) {
	if tok == "" {
		return "", true
	}
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil || len(b) == 0 || strings.ContainsAny(string(b), "\x00") {
		return "", false
	}
	return string(b), true
}

// page returns the items (sorted by key, ascending, unique) from the one the token names, at
// most size of them, and the token of the next page ("" when none).
func page[T any](items []T, key func(T) string, tok string, size int) ([]T, string, error) {
	from, ok := parsePageToken(tok)
	if !ok {
		return nil, "", invalidParameter("Invalid parameter: NextToken")
	}
	start := sort.Search(len(items), func(i int) bool { return key(items[i]) >= from })
	end := min(start+size, len(items))
	next := ""
	if end < len(items) {
		next = pageToken(key(items[end]))
	}
	return items[start:end], next, nil
}
