package cloudtrail

import (
	"net/netip"
	"strings"

	"github.com/opentrail/opentrail/internal/blob"
)

// Trail-name rules, as AWS states them: 3–128 characters; ASCII letters, digits, '.', '_' and
// '-' only; beginning and ending with a letter or digit; no two adjacent characters from
// "._-"; not formatted as an IP address.
const (
	minTrailName = 3
	maxTrailName = 128
)

// ValidateTrailName checks name against the trail-name rules and returns an
// InvalidTrailNameException worded as AWS words it, or nil. The checks run in AWS's order:
// length, first character, last character, character set, adjacency, IP form.
func ValidateTrailName(name string) error {
	n := len(name)
	switch {
	case n < minTrailName:
		return errorf(CodeInvalidTrailName, "Trail name too short. Minimum allowed length: %d characters. Specified name length: %d characters.", minTrailName, n)
	case n > maxTrailName:
		return errorf(CodeInvalidTrailName, "Trail name too long. Maximum allowed length: %d characters. Specified name length: %d characters.", maxTrailName, n)
	case !isAlnum(name[0]):
		return errorf(CodeInvalidTrailName, "Trail name must starts with a letter or number.")
	case !isAlnum(name[n-1]):
		return errorf(CodeInvalidTrailName, "Trail name must ends with a letter or number.")
	}
	for i := 0; i < n; i++ {
		if c := name[i]; !isAlnum(c) && !isNameSpecial(c) {
			return errorf(CodeInvalidTrailName, "Trail name or ARN can only contain uppercase letters, lowercase letters, numbers, periods (.), hyphens (-), and underscores (_).")
		}
	}
	for i := 1; i < n; i++ {
		if isNameSpecial(name[i]) && isNameSpecial(name[i-1]) {
			return errorf(CodeInvalidTrailName, "Trail name cannot have adjacent periods (.), hyphens (-), or underscores (_): %s", name)
		}
	}
	if _, err := netip.ParseAddr(name); err == nil {
		return errorf(CodeInvalidTrailName, "Trail name cannot be formatted as an IP address: %s", name)
	}
	return nil
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func isNameSpecial(c byte) bool { return c == '.' || c == '_' || c == '-' }

// TrailARN is the ARN of a trail: arn:aws:cloudtrail:<home region>:<account>:trail/<name>.
func TrailARN(homeRegion, acct, name string) string {
	return "arn:aws:cloudtrail:" + homeRegion + ":" + acct + ":trail/" + name
}

// trailRef is a parsed Name/TrailName/ResourceId input: the trail it designates.
type trailRef struct {
	Account string
	Region  string // the home region the reference points at
	Name    string
	ByARN   bool // given as an ARN, so it may designate a trail of another region
}

func (r trailRef) ARN() string { return TrailARN(r.Region, r.Account, r.Name) }

// parseTrailRef parses a trail name or ARN given by a caller of account acct in region. A name
// designates a trail whose home region is the request region; an ARN designates the trail of
// its own region. Malformed names give InvalidTrailNameException, malformed ARNs
// CloudTrailARNInvalidException, and an ARN of another account or partition
// TrailNotFoundException (organization trails are not supported).
func parseTrailRef(acct, region, s string) (trailRef, error) {
	if !strings.HasPrefix(s, "arn:") {
		if err := ValidateTrailName(s); err != nil {
			return trailRef{}, err
		}
		return trailRef{Account: acct, Region: region, Name: s}, nil
	}
	partition, arnRegion, arnAcct, name, ok := splitTrailARN(s)
	if !ok {
		return trailRef{}, errorf(CodeCloudTrailARNInvalid, "Invalid trail ARN: %s. A trail ARN has the form arn:aws:cloudtrail:<region>:<account-id>:trail/<name>.", s)
	}
	if partition != "aws" || arnAcct != acct {
		return trailRef{}, errTrailNotFound(s, acct)
	}
	return trailRef{Account: acct, Region: arnRegion, Name: name, ByARN: true}, nil
}

// splitTrailARN splits arn:<partition>:cloudtrail:<region>:<account>:trail/<name>, checking
// each part's syntax.
func splitTrailARN(s string) (partition, region, acct, name string, ok bool) {
	parts := strings.SplitN(s, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "cloudtrail" {
		return "", "", "", "", false
	}
	partition, region, acct = parts[1], parts[3], parts[4]
	res, found := strings.CutPrefix(parts[5], "trail/")
	if !found || partition == "" || !validRegionName(region) || !validAccountID(acct) {
		return "", "", "", "", false
	}
	if ValidateTrailName(res) != nil {
		return "", "", "", "", false
	}
	return partition, region, acct, res, true
}

// validRegionName accepts region-shaped strings: lower-case letters, digits and dashes, at
// most 32 characters, starting with a letter.
func validRegionName(r string) bool {
	if r == "" || len(r) > 32 || r[0] < 'a' || r[0] > 'z' {
		return false
	}
	for i := 0; i < len(r); i++ {
		c := r[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

func validAccountID(a string) bool {
	if len(a) != 12 {
		return false
	}
	for i := 0; i < len(a); i++ {
		if a[i] < '0' || a[i] > '9' {
			return false
		}
	}
	return true
}

// resourceARN is the ARN a trail operation is authorized against: the ARN itself when the
// caller gave one, else the ARN the name has in the request region.
func resourceARN(region, acct, nameOrARN string) string {
	if strings.HasPrefix(nameOrARN, "arn:") {
		return nameOrARN
	}
	return TrailARN(region, acct, nameOrARN)
}

// checkBucketName checks an S3BucketName input.
func checkBucketName(b string) error {
	if b == "" {
		return errorf(CodeInvalidS3BucketName, "S3BucketName must not be empty.")
	}
	if !blob.ValidBucketName(b) {
		return errorf(CodeInvalidS3BucketName, "Invalid bucket name: %s. Bucket names are 3-63 characters of lower-case letters, numbers, periods and hyphens, begin and end with a letter or number, and are not formatted as IP addresses.", b)
	}
	return nil
}

// maxS3KeyPrefix is the longest S3KeyPrefix AWS accepts.
const maxS3KeyPrefix = 200

func checkS3KeyPrefix(p string) error {
	if len(p) > maxS3KeyPrefix {
		return errorf(CodeInvalidS3Prefix, "S3KeyPrefix is too long: %d characters; the maximum is %d.", len(p), maxS3KeyPrefix)
	}
	return nil
}
