// Package redact removes sensitive values from request parameters and response elements
// before they are written into CloudTrail records. The list of sensitive member names lives
// here and nowhere else.
package redact

import "strings"

// Hidden is the value AWS writes in place of a sensitive value.
const Hidden = "HIDDEN_DUE_TO_SECURITY_REASONS"

// sensitive holds lower-cased member names whose values never reach a record.
var sensitive = map[string]bool{
	"secretaccesskey":  true,
	"sessiontoken":     true,
	"password":         true,
	"newpassword":      true,
	"oldpassword":      true,
	"privatekey":       true,
	"secretkey":        true,
	"secret":           true,
	"authorization":    true,
	"apikeyvalue":      true,
	"clientsecret":     true,
	"samlassertion":    true,
	"webidentitytoken": true,
}

// IsSensitive reports whether a member of this name is hidden.
func IsSensitive(name string) bool { return sensitive[strings.ToLower(name)] }

// Walk replaces, in place, every sensitive member of a decoded JSON value (maps and slices
// nested at any depth) with Hidden.
func Walk(v any) {
	switch t := v.(type) {
	case map[string]any:
		for k, x := range t {
			if IsSensitive(k) {
				if x != nil {
					t[k] = Hidden
				}
				continue
			}
			Walk(x)
		}
	case []any:
		for _, x := range t {
			Walk(x)
		}
	}
}
