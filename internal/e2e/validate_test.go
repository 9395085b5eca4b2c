package e2e

import (
	"bytes"
	"crypto"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"

	"github.com/opentrail/opentrail/internal/blob"
	"github.com/opentrail/opentrail/internal/digest"
	"github.com/opentrail/opentrail/internal/kv"
	"github.com/opentrail/opentrail/internal/secret"
	"github.com/opentrail/opentrail/internal/testserver"
)

// validateRun is one validate-logs run: its exit status and output.
type validateRun struct {
	code           int
	stdout, stderr string
}

func runValidator(t *testing.T, env []string, name string, args ...string) validateRun {
	t.Helper()
	cmd := exec.Command(name, args...)
	cmd.Env = append(os.Environ(), env...)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	if err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("%s: %v", name, err)
		}
		code = ee.ExitCode()
	}
	return validateRun{code, out.String(), errb.String()}
}

var summaryRE = regexp.MustCompile(`(\d+)/(\d+) digest files valid(?:, (\d+)/\d+ digest files INVALID)?\s+(\d+)/(\d+) log files valid`)

// TestValidateLogs delivers log files and digests to versitygw through a real server, then
// has the AWS CLI's own `aws cloudtrail validate-logs` and `opentrail validate-logs` check
// them: both accept the untouched files, both report a modified log file, a deleted log
// file, a deleted digest and a modified digest; and when an attacker who holds the signing
// key hides a log file by deleting it and re-signing its digest, the AWS CLI (which does not
// follow the chain's hashes) calls everything valid while opentrail validate-logs does not.
func TestValidateLogs(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		t.Fatal("the aws CLI is needed (scripts/setup checks for it)")
	}
	env, gw := s3Delivery(t, "--delivery-interval", "1s", "--digest-interval", "2s", "--regions", "us-east-1")
	ctx := testserver.Context(t)
	const bucket = "validated-logs"
	env.makeBucket(bucket)
	start := time.Now().UTC().Add(-time.Minute).Format("2006-01-02T15:04:05Z")
	ct := cloudtrail.NewFromConfig(env.cfg)
	tr, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("validated"), S3BucketName: aws.String(bucket), EnableLogFileValidation: aws.Bool(true)})
	if err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(tr.TrailARN)
	if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("validated")}); err != nil {
		t.Fatal(err)
	}
	load := startCallLoad(ctx, env.cfg, 1)
	time.Sleep(7 * time.Second)
	load.finish()
	// Let the last records be delivered and digested.
	time.Sleep(5 * time.Second)

	cliEnv := []string{
		"AWS_ACCESS_KEY_ID=" + gw.AccessKeyID, "AWS_SECRET_ACCESS_KEY=" + gw.SecretAccessKey,
		"AWS_DEFAULT_REGION=us-east-1", "AWS_ENDPOINT_URL_S3=" + gw.URL,
		"AWS_CONFIG_FILE=/dev/null", "AWS_SHARED_CREDENTIALS_FILE=/dev/null", "AWS_PAGER=",
	}
	aws := func() validateRun {
		return runValidator(t, cliEnv, "aws", "cloudtrail", "validate-logs", "--endpoint-url", env.srv.URL,
			"--trail-arn", arn, "--start-time", start, "--verbose")
	}
	ours := func() validateRun {
		return runValidator(t, cliEnv, testserver.Binary(t), "validate-logs", "--endpoint-url", env.srv.URL,
			"--trail-arn", arn, "--start-time", start, "--verbose", "--s3-endpoint", gw.URL)
	}
	checkValid := func(name string, r validateRun) (digests, logs int) {
		t.Helper()
		m := summaryRE.FindStringSubmatch(r.stdout)
		if r.code != 0 || m == nil || m[1] != m[2] || m[4] != m[5] || m[3] != "" {
			t.Fatalf("%s: exit %d\nstdout:\n%s\nstderr:\n%s", name, r.code, r.stdout, r.stderr)
		}
		d, _ := strconv.Atoi(m[2])
		l, _ := strconv.Atoi(m[5])
		return d, l
	}
	d1, l1 := checkValid("aws cloudtrail validate-logs", aws())
	d2, l2 := checkValid("opentrail validate-logs", ours())
	t.Logf("untouched: the AWS CLI found %d/%d digests and %d/%d log files valid; opentrail validate-logs %d/%d and %d/%d", d1, d1, l1, l1, d2, d2, l2, l2)
	if d1 < 3 || l1 < 3 {
		t.Fatalf("too little to validate: %d digests, %d log files", d1, l1)
	}

	// A middle digest of the chain that lists a log file, and that log file.
	dig, logKey := middleDigest(t, env.store, bucket)
	dobj := get(t, env.store, bucket, dig)
	lobj := get(t, env.store, bucket, logKey)
	restore := func() {
		put(t, env.store, bucket, dig, dobj)
		put(t, env.store, bucket, logKey, lobj)
	}
	s3url := func(k string) string { return "s3://" + bucket + "/" + k }
	cases := []struct {
		name   string
		tamper func()
		want   string
	}{
		{"modified log file", func() {
			put(t, env.store, bucket, logKey, &blob.Object{Body: digest.Gzip([]byte(`{"Records":[]}`))})
		}, "Log file\t" + s3url(logKey) + "\tINVALID: hash value doesn't match"},
		{"deleted log file", func() { del(t, env.store, bucket, logKey) }, "Log file\t" + s3url(logKey) + "\tINVALID: not found"},
		{"deleted digest", func() { del(t, env.store, bucket, dig) }, "Digest file\t" + s3url(dig) + "\tINVALID: not found"},
		{"modified digest", func() {
			raw := gunzipOne(t, dobj.Body)
			changed := bytes.Replace(raw, []byte(`"hashAlgorithm":"SHA-256"`), []byte(`"hashAlgorithm":"SHA-256" `), 1)
			put(t, env.store, bucket, dig, &blob.Object{Body: digest.Gzip(changed), Metadata: dobj.Metadata})
		}, "Digest file\t" + s3url(dig) + "\tINVALID: signature verification failed"},
	}
	for _, c := range cases {
		c.tamper()
		for _, v := range []struct {
			name string
			run  func() validateRun
		}{{"aws cloudtrail validate-logs", aws}, {"opentrail validate-logs", ours}} {
			r := v.run()
			if r.code != 1 || !strings.Contains(r.stderr, c.want) {
				t.Errorf("%s, %s: exit %d, want 1 and %q on stderr\nstdout:\n%s\nstderr:\n%s", c.name, v.name, r.code, c.want, r.stdout, r.stderr)
			}
		}
		restore()
	}
	checkValid("aws cloudtrail validate-logs after restoring", aws())

	// An attacker with the signing key deletes a log file and re-signs its digest without it.
	signer := stealSigningKey(t, env, dig)
	d, err := digest.Parse(gunzipOne(t, dobj.Body))
	if err != nil {
		t.Fatal(err)
	}
	var kept []digest.LogFile
	for _, lf := range d.LogFiles {
		if lf.S3Object != logKey {
			kept = append(kept, lf)
		}
	}
	d.LogFiles = kept
	sealed, err := digest.Seal(signer, d)
	if err != nil {
		t.Fatal(err)
	}
	put(t, env.store, bucket, dig, &blob.Object{Body: sealed.Body, Metadata: sealed.Metadata()})
	del(t, env.store, bucket, logKey)
	if r := aws(); r.code != 0 {
		t.Errorf("the AWS CLI noticed the re-signed digest (exit %d); this test expects the gap it has\n%s", r.code, r.stderr)
	}
	// The digest after the re-signed one no longer chains to it.
	if r := ours(); r.code != 1 || !strings.Contains(r.stderr, "previousDigestHashValue doesn't match the previous digest") {
		t.Errorf("opentrail validate-logs: exit %d, want 1 and a broken chain after %s\nstdout:\n%s\nstderr:\n%s", r.code, dig, r.stdout, r.stderr)
	} else {
		t.Logf("opentrail validate-logs caught the re-signed digest:\n%s", r.stderr)
	}
}

func get(t *testing.T, store blob.Store, bucket, key string) *blob.Object {
	t.Helper()
	o, err := store.Get(testserver.Context(t), bucket, key)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return o
}

func put(t *testing.T, store blob.Store, bucket, key string, o *blob.Object) {
	t.Helper()
	if err := store.Put(testserver.Context(t), bucket, key, o.Body, blob.PutOptions{Metadata: o.Metadata}); err != nil {
		t.Fatalf("put %s: %v", key, err)
	}
}

func del(t *testing.T, store blob.Store, bucket, key string) {
	t.Helper()
	if err := store.Delete(testserver.Context(t), bucket, key); err != nil {
		t.Fatalf("delete %s: %v", key, err)
	}
}

// middleDigest returns a digest that has a newer digest after it and lists a log file, and
// that log file.
func middleDigest(t *testing.T, store blob.Store, bucket string) (digestKey, logKey string) {
	t.Helper()
	var keys []string
	err := store.List(testserver.Context(t), bucket, "AWSLogs/"+testserver.AccountID+"/CloudTrail-Digest/us-east-1/", "", func(o blob.Object) error {
		keys = append(keys, o.Key)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for i := len(keys) - 3; i >= 1; i-- {
		d, err := digest.Parse(gunzipOne(t, get(t, store, bucket, keys[i]).Body))
		if err != nil {
			t.Fatal(err)
		}
		if len(d.LogFiles) > 0 && d.PreviousDigestS3Object != nil {
			return keys[i], d.LogFiles[0].S3Object
		}
	}
	t.Fatalf("no middle digest with log files among %v", keys)
	return "", ""
}

// stealSigningKey stops the server, takes the region's signing key that signed digestKey
// out of its data directory (as an attacker who has the server's disk could), and starts
// the server again.
func stealSigningKey(t *testing.T, env *deliveryEnv, digestKey string) crypto.Signer {
	t.Helper()
	info, err := digest.ParseKey(digestKey)
	if err != nil {
		t.Fatal(err)
	}
	env.srv.Stop()
	defer env.srv.StartAgain()
	store, err := kv.Open(filepath.Join(env.srv.DataDir, "meta"), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	box, err := secret.OpenKeyFile(filepath.Join(env.srv.DataDir, "master.key"))
	if err != nil {
		t.Fatal(err)
	}
	ring, err := digest.OpenKeyRing(digest.KeyRingOptions{Store: store, Box: box})
	if err != nil {
		t.Fatal(err)
	}
	s, _, err := ring.SignerAt(info.SourceRegion, info.End)
	if err != nil {
		t.Fatal(err)
	}
	return s
}
