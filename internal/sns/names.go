package sns

import (
	"strings"
)

// Topic names, as the model states them: 1–256 characters, ASCII letters, digits, '_' and '-'
// (FIFO topics add a ".fifo" suffix; this server does not serve FIFO topics).
const maxTopicName = 256

// validTopicName reports whether name is a valid standard topic name.
func validTopicName(name string) bool {
	if len(name) == 0 || len(name) > maxTopicName {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

func validAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func validRegion(s string) bool {
	if len(s) == 0 || len(s) > 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// TopicRef names a topic: its account, region and name.
type topicRef struct {
	Account, Region, Name string
}

// ARN is arn:aws:sns:<region>:<account>:<name>.
func (r topicRef) ARN() string { return TopicARNFor(r.Region, r.Account, r.Name) }

// TopicARNFor returns the ARN of a topic.
func TopicARNFor(region, account, name string) string {
	return "arn:aws:sns:" + region + ":" + account + ":" + name
}

// parseTopicARN splits a topic ARN. It accepts only well-formed ARNs of standard topics.
func parseTopicARN(arn string) (topicRef, bool) {
	parts := strings.Split(arn, ":")
	if len(parts) != 6 || parts[0] != "arn" || parts[1] != "aws" || parts[2] != "sns" {
		return topicRef{}, false
	}
	ref := topicRef{Region: parts[3], Account: parts[4], Name: parts[5]}
	if !validRegion(ref.Region) || !validAccount(ref.Account) || !validTopicName(ref.Name) {
		return topicRef{}, false
	}
	return ref, true
}

// subRef names a subscription: its topic and its ID (a UUID).
type subRef struct {
	Topic topicRef
	ID    string
}

// parseSubscriptionARN splits arn:aws:sns:<region>:<account>:<topic>:<id>.
func parseSubscriptionARN(arn string) (subRef, bool) {
	i := strings.LastIndexByte(arn, ':')
	if i < 0 {
		return subRef{}, false
	}
	t, ok := parseTopicARN(arn[:i])
	id := arn[i+1:]
	if !ok || !validSubscriptionID(id) {
		return subRef{}, false
	}
	return subRef{Topic: t, ID: id}, true
}

// validSubscriptionID accepts the UUIDs this server issues (and AWS's, which have the same
// form), lower-case hex with dashes.
func validSubscriptionID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
				return false
			}
		}
	}
	return true
}
