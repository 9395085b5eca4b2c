package digest

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// KeyTimeFormat is the layout of the time stamp in a digest's object key ("20150817T150000Z").
const KeyTimeFormat = "20060102T150405Z"

// KeyInfo is what a digest's object key says:
//
//	[<prefix>/]AWSLogs/[<orgID>/]<account>/CloudTrail-Digest/<sourceRegion>/YYYY/MM/DD/
//	    <account>_CloudTrail-Digest_<sourceRegion>_<trailName>_<homeRegion>_YYYYMMDDTHHMMSSZ[_backfill].json.gz
//
// The date folder and the stamp are End (the digest's digestEndTime) in UTC.
type KeyInfo struct {
	Prefix       string // the trail's S3KeyPrefix, without a trailing "/"; "" for none
	OrgID        string // "o-..." for organization trails, else ""
	Account      string // the account whose logs the digest covers
	SourceRegion string // the region the events happened in
	TrailName    string
	HomeRegion   string // the trail's home region
	End          time.Time
	Backfill     bool // a "_backfill" digest (AWS's; OpenTrail never writes them)
}

// Key returns the object key of the digest of a trail (named trailName, created in
// homeRegion) for account's events in srcRegion whose window ends at end. prefix is the
// trail's S3KeyPrefix ("" for none).
func Key(prefix, acct, srcRegion, trailName, homeRegion string, end time.Time) string {
	return KeyInfo{Prefix: prefix, Account: acct, SourceRegion: srcRegion, TrailName: trailName, HomeRegion: homeRegion, End: end}.String()
}

// Dir returns the key prefix under which every digest of k's account and source region lies:
// "[<prefix>/]AWSLogs/[<orgID>/]<account>/CloudTrail-Digest/<sourceRegion>/".
func (k KeyInfo) Dir() string {
	var b strings.Builder
	if k.Prefix != "" {
		b.WriteString(k.Prefix)
		b.WriteByte('/')
	}
	b.WriteString("AWSLogs/")
	if k.OrgID != "" {
		b.WriteString(k.OrgID)
		b.WriteByte('/')
	}
	b.WriteString(k.Account)
	b.WriteString("/CloudTrail-Digest/")
	b.WriteString(k.SourceRegion)
	b.WriteByte('/')
	return b.String()
}

// FileNamePrefix returns the start of the file name of k's trail's digests, up to and
// including the "_" before the stamp: "<account>_CloudTrail-Digest_<src>_<trail>_<home>_".
func (k KeyInfo) FileNamePrefix() string {
	return k.Account + "_CloudTrail-Digest_" + k.SourceRegion + "_" + k.TrailName + "_" + k.HomeRegion + "_"
}

// String returns the object key.
func (k KeyInfo) String() string {
	end := k.End.UTC()
	name := k.FileNamePrefix() + end.Format(KeyTimeFormat)
	if k.Backfill {
		name += "_backfill"
	}
	return k.Dir() + end.Format("2006/01/02") + "/" + name + ".json.gz"
}

// ErrNotDigestKey is wrapped by ParseKey's errors.
var ErrNotDigestKey = errors.New("digest: not a digest object key")

// ParseKey parses a digest object key. It accepts exactly what String produces (with any
// prefix), so ParseKey(k.String()) gives k back with End at second precision; anything else,
// including a date folder that disagrees with the stamp, is an error wrapping ErrNotDigestKey.
func ParseKey(key string) (KeyInfo, error) {
	bad := func(why string) (KeyInfo, error) {
		return KeyInfo{}, fmt.Errorf("%w: %s: %q", ErrNotDigestKey, why, key)
	}
	// Split off the prefix at the last "AWSLogs/" segment that the rest parses after. A
	// prefix may itself contain "AWSLogs/", so try every candidate from the right.
	var firstErr error
	for i := len(key); ; {
		j := strings.LastIndex(key[:i], "AWSLogs/")
		if j < 0 {
			break
		}
		i = j
		if j > 0 && key[j-1] != '/' {
			continue
		}
		prefix := ""
		if j > 0 {
			prefix = key[:j-1]
			if prefix == "" {
				continue
			}
		}
		k, err := parseAfterAWSLogs(key[j+len("AWSLogs/"):])
		if err == nil {
			k.Prefix = prefix
			return k, nil
		}
		if firstErr == nil {
			firstErr = err
		}
	}
	if firstErr != nil {
		return bad(firstErr.Error())
	}
	return bad("no AWSLogs/ segment")
}

// parseAfterAWSLogs parses "[o-<org>/]<acct>/CloudTrail-Digest/<src>/YYYY/MM/DD/<name>".
func parseAfterAWSLogs(rest string) (KeyInfo, error) {
	parts := strings.Split(rest, "/")
	var k KeyInfo
	if len(parts) == 8 {
		if !strings.HasPrefix(parts[0], "o-") || len(parts[0]) < 3 {
			return k, errors.New("bad organization segment")
		}
		k.OrgID, parts = parts[0], parts[1:]
	}
	if len(parts) != 7 {
		return k, errors.New("wrong number of segments")
	}
	k.Account, k.SourceRegion = parts[0], parts[2]
	if parts[1] != "CloudTrail-Digest" {
		return k, errors.New("not under CloudTrail-Digest/")
	}
	if k.Account == "" || k.SourceRegion == "" || strings.Contains(k.SourceRegion, "_") {
		return k, errors.New("bad account or region")
	}
	name, ok := strings.CutSuffix(parts[6], ".json.gz")
	if !ok {
		return k, errors.New("not .json.gz")
	}
	name, k.Backfill = strings.CutSuffix(name, "_backfill")
	head := k.Account + "_CloudTrail-Digest_" + k.SourceRegion + "_"
	name, ok = strings.CutPrefix(name, head)
	if !ok {
		return k, errors.New("file name does not match its folder")
	}
	// name is now <trailName>_<homeRegion>_<stamp>; the stamp is fixed width and regions
	// have no "_", so the home region is the segment before the stamp.
	const stampLen = len(KeyTimeFormat)
	if len(name) < stampLen+1 || name[len(name)-stampLen-1] != '_' {
		return k, errors.New("no time stamp")
	}
	stamp := name[len(name)-stampLen:]
	end, err := time.Parse(KeyTimeFormat, stamp)
	if err != nil || end.Format(KeyTimeFormat) != stamp {
		return k, errors.New("bad time stamp")
	}
	k.End = end
	name = name[:len(name)-stampLen-1]
	u := strings.LastIndexByte(name, '_')
	if u <= 0 || u == len(name)-1 {
		return k, errors.New("no trail name or home region")
	}
	k.TrailName, k.HomeRegion = name[:u], name[u+1:]
	if parts[3]+"/"+parts[4]+"/"+parts[5] != end.Format("2006/01/02") {
		return k, errors.New("date folder does not match the time stamp")
	}
	return k, nil
}
