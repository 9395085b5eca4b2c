package digest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/smithy-go"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/awsproto"
	"github.com/opentrail/opentrail/internal/server"
)

const (
	apiAccount = "123456789012"
	apiKeyID   = "AKIADIGESTTEST000001"
	apiSecret  = "digest-test-secret-0123456789abcdefghij"
)

// rootAuth knows one access key: the root user of apiAccount.
type rootAuth struct{}

func (rootAuth) LookupKey(id string) (server.Credentials, bool) {
	if id != apiKeyID {
		return server.Credentials{}, false
	}
	return server.Credentials{Secret: apiSecret, Caller: opentrail.Caller{
		Type: opentrail.IdentityRoot, AccountID: apiAccount, ARN: "arn:aws:iam::" + apiAccount + ":root",
		PrincipalID: apiAccount, AccessKeyID: apiKeyID,
	}}, true
}

// newAPIServer serves the ring's operations under both cloudtrail X-Amz-Target prefixes and
// returns the server's URL.
func newAPIServer(t *testing.T, ring *KeyRing) string {
	t.Helper()
	var svcs []*server.Service
	for _, prefix := range []string{"com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101", "CloudTrail_20131101"} {
		svc := &server.Service{
			Name:         "cloudtrail",
			EventSource:  "cloudtrail.amazonaws.com",
			TargetPrefix: prefix,
			Wire:         awsproto.Wire{Protocol: awsproto.JSON, ContentType: awsproto.ContentTypeJSON11, MessageKey: "Message"},
		}
		svc.Add(ring.Operations()...)
		svcs = append(svcs, svc)
	}
	srv := server.New(server.Config{Regions: []string{"us-east-1", "eu-west-1"}, Authenticator: rootAuth{}})
	srv.Register(svcs...)
	ts := httptest.NewServer(srv)
	t.Cleanup(ts.Close)
	return ts.URL
}

func sdkClient(url, region string) *cloudtrail.Client {
	return cloudtrail.NewFromConfig(aws.Config{
		Region:           region,
		Credentials:      credentials.NewStaticCredentialsProvider(apiKeyID, apiSecret, ""),
		BaseEndpoint:     aws.String(url),
		RetryMaxAttempts: 1,
	})
}

func TestListPublicKeysWithSDK(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	env := newRingEnv(t, t0)
	ring := env.open(t)
	_, fp1, err := ring.Signer("us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	env.clock.Advance(KeyValidity - time.Hour)
	_, fp2, err := ring.Signer("us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	now := env.clock.Now()
	url := newAPIServer(t, ring)
	client := sdkClient(url, "us-east-1")
	ctx := context.Background()

	// No times: the keys current now, both during the overlap.
	out, err := client.ListPublicKeys(ctx, &cloudtrail.ListPublicKeysInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.PublicKeyList) != 2 || out.NextToken != nil {
		t.Fatalf("ListPublicKeys() = %d keys, token %v; want 2, none", len(out.PublicKeyList), out.NextToken)
	}
	want, _ := ring.PublicKeys("us-east-1", now, now)
	for i, k := range out.PublicKeyList {
		if !bytes.Equal(k.Value, want[i].Value) || aws.ToString(k.Fingerprint) != want[i].Fingerprint ||
			!aws.ToTime(k.ValidityStartTime).Equal(want[i].ValidityStart) || !aws.ToTime(k.ValidityEndTime).Equal(want[i].ValidityEnd) {
			t.Errorf("key %d = %+v; want %+v", i, k, want[i])
		}
		if Fingerprint(k.Value) != aws.ToString(k.Fingerprint) {
			t.Errorf("key %d: fingerprint is not MD5 of Value", i)
		}
	}
	if aws.ToString(out.PublicKeyList[0].Fingerprint) != fp1 || aws.ToString(out.PublicKeyList[1].Fingerprint) != fp2 {
		t.Errorf("fingerprints %s, %s; want %s, %s", aws.ToString(out.PublicKeyList[0].Fingerprint), aws.ToString(out.PublicKeyList[1].Fingerprint), fp1, fp2)
	}

	// A range before the second key: only the first.
	out, err = client.ListPublicKeys(ctx, &cloudtrail.ListPublicKeysInput{StartTime: aws.Time(t0.Add(time.Hour)), EndTime: aws.Time(t0.Add(2 * time.Hour))})
	if err != nil || len(out.PublicKeyList) != 1 || aws.ToString(out.PublicKeyList[0].Fingerprint) != fp1 {
		t.Fatalf("ListPublicKeys(t0+1h..t0+2h) = %+v, %v; want %s", out, err, fp1)
	}

	// Another region has its own key, created on demand.
	out, err = sdkClient(url, "eu-west-1").ListPublicKeys(ctx, &cloudtrail.ListPublicKeysInput{})
	if err != nil || len(out.PublicKeyList) != 1 || aws.ToString(out.PublicKeyList[0].Fingerprint) == fp1 || aws.ToString(out.PublicKeyList[0].Fingerprint) == fp2 {
		t.Fatalf("eu-west-1 keys = %+v, %v; want one key of its own", out, err)
	}

	for name, c := range map[string]struct {
		in   *cloudtrail.ListPublicKeysInput
		code string
	}{
		"start after end":  {&cloudtrail.ListPublicKeysInput{StartTime: aws.Time(t0.Add(time.Hour)), EndTime: aws.Time(t0)}, CodeInvalidTimeRange},
		"start after now":  {&cloudtrail.ListPublicKeysInput{StartTime: aws.Time(now.Add(time.Hour))}, CodeInvalidTimeRange},
		"next token":       {&cloudtrail.ListPublicKeysInput{NextToken: aws.String("x")}, CodeInvalidToken},
		"before the epoch": {&cloudtrail.ListPublicKeysInput{StartTime: aws.Time(time.Unix(-10, 0))}, CodeInvalidTimeRange},
	} {
		_, err := client.ListPublicKeys(ctx, c.in)
		var ae smithy.APIError
		if !errors.As(err, &ae) || ae.ErrorCode() != c.code || ae.ErrorMessage() == "" {
			t.Errorf("%s: err = %v; want %s with a message", name, err, c.code)
		}
	}
}

// chainObject is a stored object of a test bucket.
type chainObject struct {
	Bucket   string            `json:"bucket"`
	Key      string            `json:"key"`
	Body     []byte            `json:"body"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// buildChain makes a trail's chain of n hourly digests ending at end, each listing two log
// files, signed with ring's us-east-1 keys.
func buildChain(t *testing.T, ring *KeyRing, bucket string, end time.Time, n int) []chainObject {
	t.Helper()
	var objs []chainObject
	var prev *Digest
	var prevSealed *Sealed
	for i := range n {
		winEnd := end.Add(-time.Duration(n-1-i) * time.Hour)
		winStart := winEnd.Add(-time.Hour)
		signer, fp, err := ring.SignerAt("us-east-1", winEnd)
		if err != nil {
			t.Fatal(err)
		}
		d := &Digest{
			AWSAccountID: apiAccount, DigestStartTime: TimeString(winStart), DigestEndTime: TimeString(winEnd),
			DigestS3Bucket: bucket, DigestS3Object: Key("", apiAccount, "us-east-1", "main", "us-east-1", winEnd),
			DigestPublicKeyFingerprint: fp,
		}
		for j := range 2 {
			at := winStart.Add(time.Duration(j+1) * 20 * time.Minute)
			body := fmt.Appendf(nil, `{"Records":[{"eventTime":%q,"n":%d}]}`, TimeString(at), j)
			key := fmt.Sprintf("AWSLogs/%s/CloudTrail/us-east-1/%s/%s_CloudTrail_us-east-1_%s_%016d.json.gz",
				apiAccount, at.Format("2006/01/02"), apiAccount, at.Format("20060102T1504Z"), i*10+j)
			objs = append(objs, chainObject{Bucket: bucket, Key: key, Body: Gzip(body)})
			d.LogFiles = append(d.LogFiles, LogFile{S3Bucket: bucket, S3Object: key, HashValue: Hash(body), HashAlgorithm: HashAlgorithm,
				NewestEventTime: TimeString(at), OldestEventTime: TimeString(at)})
			if d.OldestEventTime == nil {
				d.OldestEventTime = ptr(TimeString(at))
			}
			d.NewestEventTime = ptr(TimeString(at))
		}
		if prev != nil {
			d.Link(prev, prevSealed.Raw, prevSealed.Signature)
		}
		sealed, err := Seal(signer, d)
		if err != nil {
			t.Fatal(err)
		}
		objs = append(objs, chainObject{Bucket: bucket, Key: d.DigestS3Object, Body: sealed.Body, Metadata: sealed.Metadata()})
		prev, prevSealed = d, sealed
	}
	return objs
}

// runCLIValidator runs the AWS CLI's validate-logs code (testdata/cli_validate.py) over objs,
// with ListPublicKeys served from url.
func runCLIValidator(t *testing.T, url string, objs []chainObject, args map[string]any) (stdout, stderr string, code int) {
	t.Helper()
	spec, err := json.Marshal(map[string]any{"region": "us-east-1", "endpoint_url": url, "args": args, "objects": objs})
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	path := filepath.Join(dir, "spec.json")
	if err := os.WriteFile(path, spec, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("python3", filepath.Join("testdata", "cli_validate.py"), path)
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			cmd.Env = append(cmd.Env, kv)
		}
	}
	cmd.Env = append(cmd.Env, "AWS_ACCESS_KEY_ID="+apiKeyID, "AWS_SECRET_ACCESS_KEY="+apiSecret,
		"AWS_CONFIG_FILE="+filepath.Join(dir, "none"), "AWS_SHARED_CREDENTIALS_FILE="+filepath.Join(dir, "none"))
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err = cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return out.String(), errb.String(), cmd.ProcessState.ExitCode()
}

func needCLI(t *testing.T) {
	t.Helper()
	if err := exec.Command("python3", "-c", "import awscli.customizations.cloudtrail.validation, rsa").Run(); err != nil {
		t.Skipf("the AWS CLI's validator is not importable: %v", err)
	}
}

// TestAWSCLIValidatesDigests runs the AWS CLI's own validate-logs code over digests signed
// here, with public keys from ListPublicKeys.
func TestAWSCLIValidatesDigests(t *testing.T) {
	needCLI(t)
	end := time.Date(2024, 1, 10, 12, 0, 0, 0, time.UTC)
	env := newRingEnv(t, end.Add(-10*time.Hour))
	ring := env.open(t)
	if _, _, err := ring.Signer("us-east-1"); err != nil {
		t.Fatal(err)
	}
	url := newAPIServer(t, ring)
	objs := buildChain(t, ring, "trail-bucket", end, 4)
	args := map[string]any{"trail_arn": "arn:aws:cloudtrail:us-east-1:" + apiAccount + ":trail/main",
		"start_time": "2024-01-10T08:00:00Z", "end_time": "2024-01-10T12:00:00Z", "s3_bucket": "trail-bucket", "verbose": true}

	stdout, stderr, code := runCLIValidator(t, url, objs, args)
	if code != 0 || stderr != "" || !strings.Contains(stdout, "\n4/4 digest files valid\n8/8 log files valid\n") ||
		!strings.Contains(stdout, "Results found for 2024-01-10T08:00:00Z to 2024-01-10T12:00:00Z:") {
		t.Fatalf("validate-logs exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}

	t.Logf("validate-logs:\n%s", stdout)

	// A changed log file and a changed digest signature are caught.
	bad := append([]chainObject(nil), objs...)
	bad[0].Body = Gzip([]byte(`{"Records":[]}`))
	last := len(bad) - 1
	bad[last].Metadata = map[string]string{MetaSignature: strings.Repeat("00", 256), MetaSignatureAlgorithm: SignatureAlgorithm}
	stdout, stderr, code = runCLIValidator(t, url, bad, args)
	if code != 1 || !strings.Contains(stderr, "\tINVALID: hash value doesn't match") || !strings.Contains(stderr, "\tINVALID: signature verification failed") {
		t.Fatalf("tampered: validate-logs exit %d\nstdout:\n%s\nstderr:\n%s", code, stdout, stderr)
	}
}
