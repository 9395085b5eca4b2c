package iam

import (
	"crypto/rand"
	"encoding/base64"
	"strings"
)

// Unique-ID prefixes, as AWS uses them.
const (
	prefixUser      = "AIDA"
	prefixRole      = "AROA"
	prefixGroup     = "AGPA"
	prefixPolicy    = "ANPA"
	prefixAccessKey = "AKIA"
	prefixTempKey   = "ASIA"
)

// idAlphabet is the alphabet of AWS unique IDs and access key IDs (base32 upper case).
const idAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

// randomID returns prefix followed by n random characters of idAlphabet.
func randomID(prefix string, n int) string {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	var sb strings.Builder
	sb.Grow(len(prefix) + n)
	sb.WriteString(prefix)
	for _, c := range b {
		sb.WriteByte(idAlphabet[c&31])
	}
	return sb.String()
}

// newEntityID returns a user, role, group or policy unique ID: the prefix and 17 characters.
func newEntityID(prefix string) string { return randomID(prefix, 17) }

// newAccessKeyID returns a 20-character access key ID (AKIA... or ASIA...).
func newAccessKeyID(prefix string) string { return randomID(prefix, 16) }

// newSecret returns a 40-character secret access key.
func newSecret() string {
	b := make([]byte, 30)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// newSessionToken returns an opaque session token for temporary credentials.
func newSessionToken() string {
	b := make([]byte, 264)
	if _, err := rand.Read(b); err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(b)
}

// ARN builders. Paths start and end with "/".

func rootARN(acct string) string { return "arn:aws:iam::" + acct + ":root" }

func entityARN(acct string, k kind, path, name string) string {
	return "arn:aws:iam::" + acct + ":" + k.info().name + path + name
}

func policyARN(acct, path, name string) string {
	return "arn:aws:iam::" + acct + ":policy" + path + name
}

func assumedRoleARN(acct, role, session string) string {
	return "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + session
}

// parsedARN is an IAM ARN of a role, user, group or policy: account, type, path and name.
type parsedARN struct {
	account string
	typ     string // "role", "user", "group", "policy"
	path    string
	name    string
}

// parseIAMARN parses arn:aws:iam::<account>:<typ><path><name>. It reports false for anything
// else, including ARNs with an empty name.
func parseIAMARN(s string) (parsedARN, bool) {
	rest, ok := strings.CutPrefix(s, "arn:aws:iam::")
	if !ok {
		return parsedARN{}, false
	}
	acct, res, ok := strings.Cut(rest, ":")
	if !ok || acct == "" || strings.Contains(res, ":") {
		return parsedARN{}, false
	}
	typ, pathName, ok := strings.Cut(res, "/")
	if !ok {
		return parsedARN{}, false
	}
	i := strings.LastIndexByte(pathName, '/')
	p := parsedARN{account: acct, typ: typ, path: "/" + pathName[:i+1], name: pathName[i+1:]}
	if p.name == "" {
		return parsedARN{}, false
	}
	return p, true
}

// arnAccount returns the account field of an ARN, or "" when s is not an ARN or has none.
func arnAccount(s string) string {
	rest, ok := strings.CutPrefix(s, "arn:")
	if !ok {
		return ""
	}
	for range 3 {
		i := strings.IndexByte(rest, ':')
		if i < 0 {
			return ""
		}
		rest = rest[i+1:]
	}
	i := strings.IndexByte(rest, ':')
	if i < 0 {
		return ""
	}
	return rest[:i]
}
