package delivery

import (
	"crypto/sha256"
	"encoding/binary"
	"time"
)

// Log file keys follow AWS's layout exactly (docs/delivery.md):
//
//	[<prefix>/]AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_YYYYMMDDTHHmmZ_<16 alphanumerics>.json.gz
//
// where the date folders and the time stamp are the UTC delivery time and region is the
// region where the events happened.

// LogFileKey returns the object key of a log file of account acct's events in region,
// delivered at stamp, with the 16-character unique part unique.
func LogFileKey(prefix, acct, region string, stamp time.Time, unique string) string {
	stamp = stamp.UTC()
	b := make([]byte, 0, len(prefix)+120)
	if prefix != "" {
		b = append(b, prefix...)
		b = append(b, '/')
	}
	b = append(b, "AWSLogs/"...)
	b = append(b, acct...)
	b = append(b, "/CloudTrail/"...)
	b = append(b, region...)
	b = append(b, '/')
	b = stamp.AppendFormat(b, "2006/01/02")
	b = append(b, '/')
	b = append(b, acct...)
	b = append(b, "_CloudTrail_"...)
	b = append(b, region...)
	b = append(b, '_')
	b = stamp.AppendFormat(b, "20060102T1504Z")
	b = append(b, '_')
	b = append(b, unique...)
	b = append(b, ".json.gz"...)
	return string(b)
}

const alphanumerics = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"

// uniquePart derives the 16 alphanumerics of a log file name from what makes the file unique:
// the trail, account and region, and the journal range and part number of its records. The
// same file always gets the same name, so a retried write replaces rather than duplicates.
func uniquePart(trailARN, acct, region string, first, last uint64, part int) string {
	h := sha256.New()
	for _, s := range []string{trailARN, acct, region} {
		h.Write([]byte(s))
		h.Write([]byte{0})
	}
	var n [24]byte
	binary.BigEndian.PutUint64(n[0:], first)
	binary.BigEndian.PutUint64(n[8:], last)
	binary.BigEndian.PutUint64(n[16:], uint64(part))
	h.Write(n[:])
	sum := h.Sum(nil)
	out := make([]byte, 16)
	for i := range out {
		out[i] = alphanumerics[int(sum[i])%len(alphanumerics)]
	}
	return string(out)
}
