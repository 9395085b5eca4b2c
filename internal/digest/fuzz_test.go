package digest

import (
	"reflect"
	"testing"
	"time"
)

// FuzzParse: Parse never panics, and what it accepts survives Marshal and Parse again.
func FuzzParse(f *testing.F) {
	d := startingDigest()
	raw, _ := d.Marshal()
	f.Add(raw)
	d.LogFiles = []LogFile{{S3Bucket: "b", S3Object: "k", HashValue: Hash(nil), HashAlgorithm: HashAlgorithm}}
	d.Link(startingDigest(), raw, "ab")
	raw2, _ := d.Marshal()
	f.Add(raw2)
	f.Add([]byte(`{"digestPublicKeyFingerprint":"f","digestS3Bucket":"b","digestS3Object":"k","previousDigestSignature":null,"digestEndTime":"e","digestStartTime":"s","logFiles":[{"s3Bucket":"\ud800","s3Object":"x","hashValue":"h","extra":[]}]}`))
	f.Add([]byte(`{"logFiles":[],"digestS3Bucket":1}`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		d, err := Parse(raw)
		if err != nil {
			return
		}
		out, err := d.Marshal()
		if err != nil {
			t.Fatalf("Marshal(Parse(%q)): %v", raw, err)
		}
		d2, err := Parse(out)
		if err != nil {
			t.Fatalf("Parse(Marshal(Parse(%q))) = %v (marshalled %s)", raw, err, out)
		}
		if !reflect.DeepEqual(d, d2) {
			t.Fatalf("round trip of %q:\n%+v\n%+v", raw, d, d2)
		}
	})
}

// FuzzParseKey: ParseKey never panics, and a key it accepts is exactly what String gives back.
func FuzzParseKey(f *testing.F) {
	end := time.Date(2015, 8, 17, 15, 0, 3, 0, time.UTC)
	f.Add(Key("", "111122223333", "us-east-2", "my_trail", "us-east-1", end))
	f.Add(Key("AWSLogs/x", "111122223333", "us-east-2", "t", "us-east-1", end))
	f.Add(KeyInfo{OrgID: "o-abc", Account: "1", SourceRegion: "r", TrailName: "t_t", HomeRegion: "h", End: end, Backfill: true}.String())
	f.Add("AWSLogs/1/CloudTrail-Digest/r/2015/08/17/1_CloudTrail-Digest_r_t_h_20150817T150003Z.json.gz")
	f.Fuzz(func(t *testing.T, key string) {
		k, err := ParseKey(key)
		if err != nil {
			return
		}
		if got := k.String(); got != key {
			t.Fatalf("ParseKey(%q) = %+v, which is %q", key, k, got)
		}
	})
}
