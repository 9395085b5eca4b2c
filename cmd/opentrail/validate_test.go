package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/awsproto"
	"github.com/opentrail/opentrail/internal/blob"
	"github.com/opentrail/opentrail/internal/digest"
	"github.com/opentrail/opentrail/internal/kv"
	"github.com/opentrail/opentrail/internal/secret"
	"github.com/opentrail/opentrail/internal/server"
)

const (
	vAccount = "123456789012"
	vKeyID   = "AKIAVALIDATETEST0001"
	vSecret  = "validate-test-secret-0123456789abcdefgh"
	vBucket  = "trail-bucket"
	vARN     = "arn:aws:cloudtrail:us-east-1:123456789012:trail/main"
)

type vAuth struct{}

func (vAuth) LookupKey(id string) (server.Credentials, bool) {
	if id != vKeyID {
		return server.Credentials{}, false
	}
	return server.Credentials{Secret: vSecret, Caller: opentrail.Caller{Type: opentrail.IdentityRoot, AccountID: vAccount,
		ARN: "arn:aws:iam::" + vAccount + ":root", PrincipalID: vAccount, AccessKeyID: vKeyID}}, true
}

type describeTrailsOutput struct {
	TrailList []map[string]any `json:"trailList"`
}

// validateServer serves ListPublicKeys from ring and a DescribeTrails that knows one trail.
func validateServer(t *testing.T, ring *digest.KeyRing, prefix string) string {
	t.Helper()
	svc := &server.Service{Name: "cloudtrail", EventSource: "cloudtrail.amazonaws.com", TargetPrefix: "CloudTrail_20131101",
		Wire: awsproto.Wire{Protocol: awsproto.JSON, ContentType: awsproto.ContentTypeJSON11, MessageKey: "Message"}}
	svc.Add(ring.Operations()...)
	svc.Add(server.Op("DescribeTrails", server.OpOptions[struct{}]{ReadOnly: true},
		func(context.Context, *server.Call, *struct{}) (*describeTrailsOutput, error) {
			trail := map[string]any{"Name": "main", "TrailARN": vARN, "S3BucketName": vBucket, "HomeRegion": "us-east-1", "IsOrganizationTrail": false}
			if prefix != "" {
				trail["S3KeyPrefix"] = prefix
			}
			return &describeTrailsOutput{TrailList: []map[string]any{trail}}, nil
		}))
	srv := server.New(server.Config{Regions: []string{"us-east-1"}, Authenticator: vAuth{}})
	srv.Register(svc)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestValidateLogsCommand(t *testing.T) {
	ctx := context.Background()
	end := time.Date(2024, 1, 10, 12, 0, 0, 0, time.UTC)
	store, err := kv.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	box, _ := secret.New(make([]byte, 32))
	ring, err := digest.OpenKeyRing(digest.KeyRingOptions{Store: store, Box: box, Now: func() time.Time { return end.Add(-24 * time.Hour) }})
	if err != nil {
		t.Fatal(err)
	}
	const prefix = "audit"
	url := validateServer(t, ring, prefix)

	// Three hourly digests and their log files in a data directory's bucket.
	dataDir := t.TempDir()
	buckets := blob.NewDir(filepath.Join(dataDir, "buckets"))
	if err := buckets.CreateBucket(ctx, vBucket); err != nil {
		t.Fatal(err)
	}
	var prev *digest.Digest
	var prevSealed *digest.Sealed
	var logKeys []string
	for i := range 3 {
		winEnd := end.Add(time.Duration(i-2) * time.Hour)
		signer, fp, err := ring.SignerAt("us-east-1", winEnd)
		if err != nil {
			t.Fatal(err)
		}
		d := &digest.Digest{AWSAccountID: vAccount, DigestStartTime: digest.TimeString(winEnd.Add(-time.Hour)), DigestEndTime: digest.TimeString(winEnd),
			DigestS3Bucket: vBucket, DigestS3Object: digest.Key(prefix, vAccount, "us-east-1", "main", "us-east-1", winEnd), DigestPublicKeyFingerprint: fp}
		at := winEnd.Add(-30 * time.Minute)
		body := fmt.Appendf(nil, `{"Records":[{"n":%d}]}`, i)
		key := fmt.Sprintf("%s/AWSLogs/%s/CloudTrail/us-east-1/%s/%s_CloudTrail_us-east-1_%s_abcdefghijklmno%d.json.gz",
			prefix, vAccount, at.Format("2006/01/02"), vAccount, at.Format("20060102T1504Z"), i)
		if err := buckets.Put(ctx, vBucket, key, digest.Gzip(body), blob.PutOptions{}); err != nil {
			t.Fatal(err)
		}
		logKeys = append(logKeys, key)
		d.LogFiles = []digest.LogFile{{S3Bucket: vBucket, S3Object: key, HashValue: digest.Hash(body), HashAlgorithm: digest.HashAlgorithm}}
		if prev != nil {
			d.Link(prev, prevSealed.Raw, prevSealed.Signature)
		}
		sealed, err := digest.Seal(signer, d)
		if err != nil {
			t.Fatal(err)
		}
		if err := buckets.Put(ctx, vBucket, d.DigestS3Object, sealed.Body, blob.PutOptions{Metadata: sealed.Metadata()}); err != nil {
			t.Fatal(err)
		}
		prev, prevSealed = d, sealed
	}

	t.Setenv("AWS_ACCESS_KEY_ID", vKeyID)
	t.Setenv("AWS_SECRET_ACCESS_KEY", vSecret)
	t.Setenv("AWS_SESSION_TOKEN", "")
	t.Setenv("AWS_PROFILE", "")
	t.Setenv("AWS_CONFIG_FILE", filepath.Join(t.TempDir(), "none"))
	t.Setenv("AWS_SHARED_CREDENTIALS_FILE", filepath.Join(t.TempDir(), "none"))
	args := []string{"validate-logs", "--trail-arn", vARN, "--start-time", "2024-01-10T10:00:00Z", "--end-time", "2024-01-10T12:00:00Z",
		"--endpoint-url", url, "--data-dir", dataDir}
	runIt := func(extra ...string) (string, string, int) {
		var out, errb bytes.Buffer
		err := run(ctx, append(args, extra...), &out, &errb)
		code := 0
		var ee *exitError
		switch {
		case errors.As(err, &ee):
			code = ee.ExitCode()
		case err != nil:
			t.Fatalf("validate-logs: %v", err)
		}
		return out.String(), errb.String(), code
	}

	out, errs, code := runIt("--verbose")
	if code != 0 || errs != "" || !strings.Contains(out, "\n3/3 digest files valid\n3/3 log files valid\n") ||
		!strings.Contains(out, "Digest file\ts3://trail-bucket/audit/AWSLogs/123456789012/CloudTrail-Digest/us-east-1/2024/01/10/123456789012_CloudTrail-Digest_us-east-1_main_us-east-1_20240110T120000Z.json.gz\tvalid\n") {
		t.Fatalf("valid trail: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, errs)
	}

	// --s3-bucket skips DescribeTrails; then --s3-prefix is needed.
	if _, errs, code := runIt("--s3-bucket", vBucket, "--s3-prefix", prefix); code != 0 {
		t.Errorf("--s3-bucket: exit %d\nstderr:\n%s", code, errs)
	}
	if out, _, code := runIt("--s3-bucket", vBucket); code != 0 || !strings.Contains(out, "No digests found") {
		t.Errorf("--s3-bucket without the prefix: exit %d\nstdout:\n%s", code, out)
	}

	// A tampered log file fails the run.
	if err := buckets.Put(ctx, vBucket, logKeys[1], digest.Gzip([]byte("{}")), blob.PutOptions{}); err != nil {
		t.Fatal(err)
	}
	_, errs, code = runIt("--progress")
	if code != 1 || !strings.Contains(errs, "_abcdefghijklmno1.json.gz\tINVALID: hash value doesn't match\n") || !strings.Contains(errs, "validate-logs: ") {
		t.Errorf("tampered: exit %d\nstderr:\n%s", code, errs)
	}

	// Aborts and usage errors.
	for _, c := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"--start-time", "2024-01-10T13:00:00Z"}, exitAbort, "\nInvalid time range specified: start-time must occur before end-time\n"},
		{[]string{"--start-time", "soon"}, exitAbort, "\nUnable to parse date value: soon\n"},
		{[]string{"--trail-arn", "arn:aws:cloudtrail:us-east-1:123456789012:trail/other"}, exitAbort, "\nA trail could not be found for arn:aws:cloudtrail:us-east-1:123456789012:trail/other\n"},
		{[]string{"--trail-arn", "main"}, exitAbort, "\nInvalid trail ARN provided: main\n"},
		{[]string{"--start-time", "2023-01-01T00:00:00Z", "--end-time", "2023-01-02T00:00:00Z"}, exitAbort, "No public keys found between 2023-01-01T00:00:00Z and 2023-01-02T02:00:00Z\n"},
	} {
		_, errs, code := runIt(c.args...)
		if code != c.code || !strings.HasSuffix(errs, c.msg) {
			t.Errorf("%v: exit %d, stderr %q; want %d, %q", c.args, code, errs, c.code, c.msg)
		}
	}
	var out2, err2 bytes.Buffer
	err = run(ctx, []string{"validate-logs", "--trail-arn", vARN}, &out2, &err2)
	var ee *exitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitUsage || !strings.Contains(err.Error(), "--start-time") {
		t.Errorf("missing --start-time: %v", err)
	}
}
