package digest

import (
	"crypto/rand"
	"crypto/rsa"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
)

// Test keys are made once per test process: 2048-bit generation is slow.
var (
	testKeysOnce sync.Once
	testKeys     []*rsa.PrivateKey
)

func testKey(t testing.TB, i int) *rsa.PrivateKey {
	t.Helper()
	testKeysOnce.Do(func() {
		for range 4 {
			k, err := rsa.GenerateKey(rand.Reader, KeyBits)
			if err != nil {
				panic(err)
			}
			testKeys = append(testKeys, k)
		}
	})
	return testKeys[i%len(testKeys)]
}

func ptr(s string) *string { return &s }

func startingDigest() *Digest {
	return &Digest{
		AWSAccountID:               "123456789012",
		DigestStartTime:            "2024-01-10T10:00:00Z",
		DigestEndTime:              "2024-01-10T11:00:00Z",
		DigestS3Bucket:             "trail-bucket",
		DigestS3Object:             "AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/01/10/123456789012_CloudTrail-Digest_us-east-1_main_us-east-1_20240110T110000Z.json.gz",
		DigestPublicKeyFingerprint: "7f3f401420072e50a65a141430817ab3",
		DigestSignatureAlgorithm:   SignatureAlgorithm,
	}
}

func TestMarshalStartingDigest(t *testing.T) {
	raw, err := startingDigest().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	want := `{"awsAccountId":"123456789012","digestStartTime":"2024-01-10T10:00:00Z","digestEndTime":"2024-01-10T11:00:00Z",` +
		`"digestS3Bucket":"trail-bucket","digestS3Object":"AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/01/10/123456789012_CloudTrail-Digest_us-east-1_main_us-east-1_20240110T110000Z.json.gz",` +
		`"digestPublicKeyFingerprint":"7f3f401420072e50a65a141430817ab3","digestSignatureAlgorithm":"SHA256withRSA",` +
		`"newestEventTime":null,"oldestEventTime":null,"previousDigestS3Bucket":null,"previousDigestS3Object":null,` +
		`"previousDigestHashValue":null,"previousDigestHashAlgorithm":null,"previousDigestSignature":null,"logFiles":[]}`
	if string(raw) != want {
		t.Errorf("Marshal:\ngot  %s\nwant %s", raw, want)
	}
}

func TestMarshalParseRoundTrip(t *testing.T) {
	d := startingDigest()
	d.NewestEventTime, d.OldestEventTime = ptr("2024-01-10T10:59:00Z"), ptr("2024-01-10T10:01:00Z")
	d.PreviousDigestS3Bucket, d.PreviousDigestS3Object = ptr("trail-bucket"), ptr("AWSLogs/x & <y>")
	d.PreviousDigestHashValue, d.PreviousDigestHashAlgorithm, d.PreviousDigestSignature = ptr(Hash(nil)), ptr(HashAlgorithm), ptr("abcd")
	d.LogFiles = []LogFile{{S3Bucket: "b", S3Object: "k1", HashValue: Hash([]byte("x")), HashAlgorithm: HashAlgorithm,
		NewestEventTime: "2024-01-10T10:59:00Z", OldestEventTime: "2024-01-10T10:01:00Z"}}
	raw, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(raw), `"AWSLogs/x & <y>"`) {
		t.Errorf("HTML characters escaped: %s", raw)
	}
	got, err := Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, d) {
		t.Errorf("Parse(Marshal(d)) = %+v; want %+v", got, d)
	}
}

func TestParseErrors(t *testing.T) {
	good, err := startingDigest().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(good); err != nil {
		t.Fatalf("Parse(starting digest): %v", err)
	}
	replace := func(old, new string) []byte { return []byte(strings.Replace(string(good), old, new, 1)) }
	for name, raw := range map[string][]byte{
		"not json":           []byte("{"),
		"array":              []byte("[]"),
		"null":               []byte("null"),
		"invalid utf-8":      append([]byte(`{"x":"`), 0xff, '"', '}'),
		"no logFiles":        replace(`,"logFiles":[]`, ""),
		"logFiles null":      replace(`"logFiles":[]`, `"logFiles":null`),
		"logFiles object":    replace(`"logFiles":[]`, `"logFiles":{}`),
		"log file no hash":   replace(`"logFiles":[]`, `"logFiles":[{"s3Bucket":"b","s3Object":"k"}]`),
		"log file not obj":   replace(`"logFiles":[]`, `"logFiles":[1]`),
		"no prev signature":  replace(`,"previousDigestSignature":null`, ""),
		"end time null":      replace(`"digestEndTime":"2024-01-10T11:00:00Z"`, `"digestEndTime":null`),
		"end time number":    replace(`"digestEndTime":"2024-01-10T11:00:00Z"`, `"digestEndTime":1`),
		"end time miscased":  replace(`"digestEndTime"`, `"DigestEndTime"`),
		"no start time":      replace(`"digestStartTime":"2024-01-10T10:00:00Z",`, ""),
		"no fingerprint":     replace(`"digestPublicKeyFingerprint":"7f3f401420072e50a65a141430817ab3",`, ""),
		"prev bucket number": replace(`"previousDigestS3Bucket":null`, `"previousDigestS3Bucket":5`),
	} {
		if _, err := Parse(raw); !errors.Is(err, ErrFormat) {
			t.Errorf("%s: Parse(%s) = %v; want ErrFormat", name, raw, err)
		}
	}
	// Optional members may be absent; unknown members are ignored.
	min := `{"digestPublicKeyFingerprint":"f","digestS3Bucket":"b","digestS3Object":"k","previousDigestSignature":null,` +
		`"digestEndTime":"e","digestStartTime":"s","logFiles":[],"extra":{"a":[1]}}`
	d, err := Parse([]byte(min))
	if err != nil {
		t.Fatalf("Parse(%s): %v", min, err)
	}
	if d.DigestS3Object != "k" || d.PreviousDigestSignature != nil || d.LogFiles == nil {
		t.Errorf("Parse(%s) = %+v", min, d)
	}
}

func TestStringToSignGolden(t *testing.T) {
	d := startingDigest()
	raw := []byte(`{"the":"document"}`)
	want := "2024-01-10T11:00:00Z\n" +
		"trail-bucket/AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/01/10/123456789012_CloudTrail-Digest_us-east-1_main_us-east-1_20240110T110000Z.json.gz\n" +
		"64d79a242d03004dfb2ed7e281818f76e893bfe52f1d4f67be4a9cfa6929b6c4\n" +
		"null"
	if got := StringToSign(d, raw); got != want {
		t.Errorf("StringToSign:\ngot  %q\nwant %q", got, want)
	}
	d.PreviousDigestSignature = ptr("00ff")
	if got := StringToSign(d, raw); !strings.HasSuffix(got, "\n00ff") || strings.HasSuffix(got, "\n") {
		t.Errorf("StringToSign with previous signature = %q", got)
	}
}

func TestSignVerify(t *testing.T) {
	key := testKey(t, 0)
	d := startingDigest()
	raw, err := d.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	sig, err := Sign(key, d, raw)
	if err != nil {
		t.Fatal(err)
	}
	if len(sig) != 512 || strings.ToLower(sig) != sig {
		t.Errorf("signature %q: want 512 lowercase hex digits", sig)
	}
	if err := Verify(&key.PublicKey, d, raw, sig); err != nil {
		t.Errorf("Verify: %v", err)
	}
	if err := Verify(&key.PublicKey, d, raw, strings.ToUpper(sig)); err != nil {
		t.Errorf("Verify(upper-case hex): %v", err)
	}
	// One changed byte anywhere fails.
	tampered := append([]byte(nil), raw...)
	tampered[10] ^= 1
	other := *d
	other.DigestS3Bucket = "other-bucket"
	prev := *d
	prev.PreviousDigestSignature = ptr("")
	for name, c := range map[string]struct {
		d   *Digest
		raw []byte
		sig string
		pub *rsa.PublicKey
	}{
		"document":           {d, tampered, sig, &key.PublicKey},
		"bucket":             {&other, raw, sig, &key.PublicKey},
		"previous signature": {&prev, raw, sig, &key.PublicKey},
		"signature":          {d, raw, "00" + sig[2:], &key.PublicKey},
		"not hex":            {d, raw, "zz" + sig[2:], &key.PublicKey},
		"other key":          {d, raw, sig, &testKey(t, 1).PublicKey},
	} {
		if err := Verify(c.pub, c.d, c.raw, c.sig); !errors.Is(err, ErrSignature) {
			t.Errorf("%s changed: Verify = %v; want ErrSignature", name, err)
		}
	}
}

func TestGzip(t *testing.T) {
	data := []byte(strings.Repeat("digest ", 1000))
	z := Gzip(data)
	got, trailing, err := Gunzip(z)
	if err != nil || trailing || string(got) != string(data) {
		t.Fatalf("Gunzip(Gzip(x)) = %d bytes, trailing %v, %v", len(got), trailing, err)
	}
	// A second member is not read, but reported.
	got, trailing, err = Gunzip(append(z, Gzip([]byte("more"))...))
	if err != nil || !trailing || string(got) != string(data) {
		t.Errorf("two members: %d bytes, trailing %v, %v; want the first member and trailing", len(got), trailing, err)
	}
	if _, _, err := Gunzip([]byte("not gzip")); err == nil {
		t.Error("Gunzip(not gzip) succeeded")
	}
	if _, _, err := Gunzip(z[:len(z)-4]); err == nil {
		t.Error("Gunzip(truncated) succeeded")
	}
}

func TestTimeString(t *testing.T) {
	ts := time.Date(2024, 1, 10, 11, 0, 0, 999, time.FixedZone("x", 3600))
	if got := TimeString(ts); got != "2024-01-10T10:00:00Z" {
		t.Errorf("TimeString = %q", got)
	}
	if p, err := ParseTime("2024-01-10T10:00:00Z"); err != nil || !p.Equal(ts.Truncate(time.Second)) {
		t.Errorf("ParseTime = %v, %v", p, err)
	}
}

func TestKey(t *testing.T) {
	end := time.Date(2015, 8, 17, 15, 0, 3, 0, time.UTC)
	for _, c := range []struct {
		k    KeyInfo
		want string
	}{
		{KeyInfo{Account: "111122223333", SourceRegion: "us-east-2", TrailName: "my_trail.1", HomeRegion: "us-east-1", End: end},
			"AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_my_trail.1_us-east-1_20150817T150003Z.json.gz"},
		{KeyInfo{Prefix: "pre/fix", Account: "111122223333", SourceRegion: "eu-west-1", TrailName: "t", HomeRegion: "us-east-1", End: end},
			"pre/fix/AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2015/08/17/111122223333_CloudTrail-Digest_eu-west-1_t_us-east-1_20150817T150003Z.json.gz"},
		{KeyInfo{Prefix: "AWSLogs", OrgID: "o-exampleorg", Account: "111122223333", SourceRegion: "us-east-1", TrailName: "org", HomeRegion: "us-east-1", End: end},
			"AWSLogs/AWSLogs/o-exampleorg/111122223333/CloudTrail-Digest/us-east-1/2015/08/17/111122223333_CloudTrail-Digest_us-east-1_org_us-east-1_20150817T150003Z.json.gz"},
		{KeyInfo{Account: "111122223333", SourceRegion: "us-east-1", TrailName: "t", HomeRegion: "us-east-1", End: end, Backfill: true},
			"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2015/08/17/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20150817T150003Z_backfill.json.gz"},
	} {
		if got := c.k.String(); got != c.want {
			t.Errorf("%+v.String():\ngot  %s\nwant %s", c.k, got, c.want)
		}
		got, err := ParseKey(c.want)
		if err != nil || !reflect.DeepEqual(got, c.k) {
			t.Errorf("ParseKey(%s) = %+v, %v; want %+v", c.want, got, err, c.k)
		}
	}
	if got, want := Key("", "111122223333", "us-east-2", "t", "us-east-1", end.In(time.FixedZone("x", -7200))),
		"AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2015/08/17/111122223333_CloudTrail-Digest_us-east-2_t_us-east-1_20150817T150003Z.json.gz"; got != want {
		t.Errorf("Key = %s; want %s", got, want)
	}
	// The last 24 characters are what validate-logs reads the date from.
	if k := Key("p", "111122223333", "us-east-2", "t", "us-east-1", end); k[len(k)-24:len(k)-8] != "20150817T150003Z" {
		t.Errorf("Key(...)[-24:-8] = %q", k[len(k)-24:len(k)-8])
	}
	for _, bad := range []string{
		"",
		"AWSLogs/111122223333/CloudTrail/us-east-1/2015/08/17/111122223333_CloudTrail_us-east-1_20150817T1500Z_abcdefghijklmnop.json.gz",
		"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2015/08/18/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20150817T150003Z.json.gz",
		"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2015/08/17/999999999999_CloudTrail-Digest_us-east-1_t_us-east-1_20150817T150003Z.json.gz",
		"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2015/08/17/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20150817T150003Z.json",
		"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2015/08/17/111122223333_CloudTrail-Digest_us-east-1__20150817T150003Z.json.gz",
		"AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2015/08/17/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20150817T250003Z.json.gz",
		"/AWSLogs/111122223333/CloudTrail-Digest/us-east-1/2015/08/17/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20150817T150003Z.json.gz",
		"xAWSLogs/111122223333/CloudTrail-Digest/us-east-1/2015/08/17/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20150817T150003Z.json.gz",
		"AWSLogs/x/111122223333/CloudTrail-Digest/us-east-1/2015/08/17/111122223333_CloudTrail-Digest_us-east-1_t_us-east-1_20150817T150003Z.json.gz",
	} {
		if k, err := ParseKey(bad); !errors.Is(err, ErrNotDigestKey) {
			t.Errorf("ParseKey(%q) = %+v, %v; want ErrNotDigestKey", bad, k, err)
		}
	}
}
