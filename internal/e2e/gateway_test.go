package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	iamapi "github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/smithy-go"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/blob"
	"github.com/opentrail/opentrail/internal/testserver"
	"github.com/opentrail/opentrail/internal/testserver/s3server"
)

// gatewayEnv is an opentrail server whose S3 gateway fronts a real versitygw.
type gatewayEnv struct {
	srv    *testserver.Server
	vgw    *s3server.Server
	gwURL  string
	ctCfg  aws.Config // OpenTrail credentials for the control plane
	s3Key  string     // credentials clients sign gateway requests with
	s3Sec  string
	direct *s3.Client // straight to versitygw
}

func freeLoopback(t *testing.T) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

func startGatewayEnv(t *testing.T, mode string) *gatewayEnv {
	vgw := s3server.Start(t)
	vgw.CreateBucket(t, "data")
	gw := freeLoopback(t)
	args := []string{"--delivery-interval", "1s", "--gateway-listen", gw, "--gateway-backend", vgw.URL, "--gateway-mode", mode}
	var env []string
	e := &gatewayEnv{vgw: vgw, gwURL: "http://" + gw, direct: vgw.Client()}
	if mode == "pass-through" {
		// OpenTrail's root user holds the backend's key, so the gateway knows who signs.
		args = append(args, "--root-access-key-id", vgw.AccessKeyID, "--root-secret-access-key", vgw.SecretAccessKey)
		e.s3Key, e.s3Sec = vgw.AccessKeyID, vgw.SecretAccessKey
	} else {
		args = append(args, "--gateway-backend-access-key-id", vgw.AccessKeyID)
		env = append(env, "OPENTRAIL_GATEWAY_BACKEND_SECRET_ACCESS_KEY="+vgw.SecretAccessKey)
		e.s3Key, e.s3Sec = testserver.RootAccessKeyID, testserver.RootSecret
	}
	e.srv = testserver.Start(t, testserver.WithArgs(args...), testserver.WithEnv(env...))
	e.ctCfg = e.srv.Config(e.s3Key, e.s3Sec, "")
	return e
}

func (e *gatewayEnv) client(key, secret string) *s3.Client {
	return s3.New(s3.Options{
		Region: testserver.Region, BaseEndpoint: aws.String(e.gwURL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider(key, secret, ""), RetryMaxAttempts: 1,
	})
}

func s3Code(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

// gatewayRecords returns the full records of every log file in a local bucket.
func gatewayRecords(t *testing.T, srv *testserver.Server, bucket string) []opentrail.Event {
	t.Helper()
	store := blob.NewDir(filepath.Join(srv.DataDir, "buckets"))
	ctx := testserver.Context(t)
	var out []opentrail.Event
	err := store.List(ctx, bucket, "", "", func(o blob.Object) error {
		if !strings.Contains(o.Key, "/CloudTrail/") {
			return nil
		}
		obj, err := store.Get(ctx, bucket, o.Key)
		if err != nil {
			return err
		}
		var body struct{ Records []opentrail.Event }
		if err := json.Unmarshal(gunzipOne(t, obj.Body), &body); err != nil {
			return err
		}
		out = append(out, body.Records...)
		return nil
	})
	if err != nil {
		t.Fatalf("list %s: %v", bucket, err)
	}
	return out
}

type ad struct {
	SignatureVersion     string
	AuthenticationMethod string
	BytesTransferredIn   int64 `json:"bytesTransferredIn"`
	BytesTransferredOut  int64 `json:"bytesTransferredOut"`
}

func TestGatewayPassThrough(t *testing.T) { runGatewayScenario(t, startGatewayEnv(t, "pass-through")) }

func TestGatewayFrontDoor(t *testing.T) { runGatewayScenario(t, startGatewayEnv(t, "front-door")) }

// runGatewayScenario drives the gateway with the Go SDK S3 client: objects and bytes must be
// what versitygw holds directly, and every request must reach the data-event trail as the
// right record (management events reach the management trail; Event History shows no data
// events).
func runGatewayScenario(t *testing.T, e *gatewayEnv) {
	ctx := testserver.Context(t)
	ct := cloudtrail.NewFromConfig(e.ctCfg)
	adminCreateBucket(t, e.srv)("trail-data")
	adminCreateBucket(t, e.srv)("trail-mgmt")
	for _, n := range []string{"data", "mgmt"} {
		if _, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String(n), S3BucketName: aws.String("trail-" + n)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := ct.PutEventSelectors(ctx, &cloudtrail.PutEventSelectorsInput{TrailName: aws.String("data"), EventSelectors: []cttypes.EventSelector{{
		ReadWriteType: cttypes.ReadWriteTypeAll, IncludeManagementEvents: aws.Bool(true),
		DataResources: []cttypes.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{"arn:aws:s3:::data/"}}},
	}}}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"data", "mgmt"} {
		if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(n)}); err != nil {
			t.Fatal(err)
		}
	}

	c := e.client(e.s3Key, e.s3Sec)
	small := []byte("hello through the gateway\n")
	big := bytes.Repeat([]byte("0123456789abcdef"), (5<<20)/16+64) // a bit over 5 MiB
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("dir/small.txt"), Body: bytes.NewReader(small)})
	must("PutObject", err)
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("big.bin"), Body: bytes.NewReader(big)})
	must("PutObject big", err)
	got, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("big.bin")})
	must("GetObject", err)
	gotBig, _ := io.ReadAll(got.Body)
	got.Body.Close()
	if !bytes.Equal(gotBig, big) {
		t.Fatalf("GetObject through the gateway: %d bytes, not the %d put", len(gotBig), len(big))
	}
	direct, err := e.direct.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("dir/small.txt")})
	must("GetObject direct", err)
	gotSmall, _ := io.ReadAll(direct.Body)
	direct.Body.Close()
	if !bytes.Equal(gotSmall, small) {
		t.Fatalf("versitygw holds %q; want %q", gotSmall, small)
	}
	_, err = c.HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("data"), Key: aws.String("dir/small.txt")})
	must("HeadObject", err)
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("data")})
	must("ListObjectsV2", err)
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("nope")})
	if s3Code(err) != "NoSuchKey" {
		t.Fatalf("GetObject missing key: %v; want NoSuchKey", err)
	}

	// Multipart: two parts.
	mp, err := c.CreateMultipartUpload(ctx, &s3.CreateMultipartUploadInput{Bucket: aws.String("data"), Key: aws.String("multi.bin")})
	must("CreateMultipartUpload", err)
	var parts []s3types.CompletedPart
	for i, body := range [][]byte{big, small} {
		up, err := c.UploadPart(ctx, &s3.UploadPartInput{Bucket: aws.String("data"), Key: aws.String("multi.bin"), UploadId: mp.UploadId,
			PartNumber: aws.Int32(int32(i + 1)), Body: bytes.NewReader(body)})
		must("UploadPart", err)
		parts = append(parts, s3types.CompletedPart{ETag: up.ETag, PartNumber: aws.Int32(int32(i + 1))})
	}
	_, err = c.CompleteMultipartUpload(ctx, &s3.CompleteMultipartUploadInput{Bucket: aws.String("data"), Key: aws.String("multi.bin"), UploadId: mp.UploadId,
		MultipartUpload: &s3types.CompletedMultipartUpload{Parts: parts}})
	must("CompleteMultipartUpload", err)
	direct, err = e.direct.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("multi.bin")})
	must("GetObject multi direct", err)
	gotMulti, _ := io.ReadAll(direct.Body)
	direct.Body.Close()
	if !bytes.Equal(gotMulti, append(append([]byte{}, big...), small...)) {
		t.Fatalf("multipart object is %d bytes; want %d", len(gotMulti), len(big)+len(small))
	}

	// Presigned GET.
	ps, err := s3.NewPresignClient(c).PresignGetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("dir/small.txt")})
	must("presign", err)
	resp, err := http.Get(ps.URL)
	must("presigned GET", err)
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !bytes.Equal(body, small) {
		t.Fatalf("presigned GET: %d %q", resp.StatusCode, body)
	}

	// A denied request: in pass-through mode the backend refuses an unknown key (versitygw
	// says XAdminUserNotFound where AWS says InvalidAccessKeyId; the record carries the
	// backend's code); in front-door mode OpenTrail's IAM refuses a user without policies.
	deniedCode := "XAdminUserNotFound"
	deniedKey, deniedSecret := "AKIAUNKNOWNKEY000001", "unknown-secret-0123456789"
	if e.s3Key == testserver.RootAccessKeyID {
		deniedCode = "AccessDenied"
		iamc := iamapi.NewFromConfig(e.ctCfg)
		_, err := iamc.CreateUser(ctx, &iamapi.CreateUserInput{UserName: aws.String("nobody")})
		must("CreateUser", err)
		k, err := iamc.CreateAccessKey(ctx, &iamapi.CreateAccessKeyInput{UserName: aws.String("nobody")})
		must("CreateAccessKey", err)
		deniedKey, deniedSecret = *k.AccessKey.AccessKeyId, *k.AccessKey.SecretAccessKey
	}
	_, err = e.client(deniedKey, deniedSecret).GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("dir/small.txt")})
	if s3Code(err) != deniedCode {
		t.Fatalf("denied GetObject: %v; want %s", err, deniedCode)
	}

	policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}]}`
	_, err = c.PutBucketPolicy(ctx, &s3.PutBucketPolicyInput{Bucket: aws.String("data"), Policy: aws.String(policy)})
	must("PutBucketPolicy", err)
	_, err = c.DeleteObject(ctx, &s3.DeleteObjectInput{Bucket: aws.String("data"), Key: aws.String("dir/small.txt")})
	must("DeleteObject", err)

	// Every request reaches the data trail; wait for the last one.
	var recs []opentrail.Event
	deadline := time.Now().Add(30 * time.Second)
	for {
		recs = recs[:0]
		for _, r := range gatewayRecords(t, e.srv, "trail-data") {
			if r.EventSource == "s3.amazonaws.com" {
				recs = append(recs, r)
			}
		}
		if len(recs) >= 14 || time.Now().After(deadline) {
			break
		}
		time.Sleep(200 * time.Millisecond)
	}
	type want struct {
		name, key, errCode string
		in, out            int64 // -1: any
		data               bool
	}
	wants := []want{
		{"PutObject", "dir/small.txt", "", int64(len(small)), 0, true},
		{"PutObject", "big.bin", "", int64(len(big)), 0, true},
		{"GetObject", "big.bin", "", 0, int64(len(big)), true},
		{"HeadObject", "dir/small.txt", "", 0, 0, true},
		{"ListObjectsV2", "", "", 0, -1, true},
		{"GetObject", "nope", "NoSuchKey", 0, -1, true},
		{"CreateMultipartUpload", "multi.bin", "", 0, -1, true},
		{"UploadPart", "multi.bin", "", int64(len(big)), 0, true},
		{"UploadPart", "multi.bin", "", int64(len(small)), 0, true},
		{"CompleteMultipartUpload", "multi.bin", "", -1, -1, true},
		{"GetObject", "dir/small.txt", "", 0, int64(len(small)), true},
		{"GetObject", "dir/small.txt", deniedCode, 0, -1, true},
		{"PutBucketPolicy", "", "", -1, -1, false},
		{"DeleteObject", "dir/small.txt", "", 0, 0, true},
	}
	used := make([]bool, len(recs))
	for _, w := range wants {
		found := false
		for i, r := range recs {
			var rp struct {
				Key string `json:"key"`
			}
			_ = json.Unmarshal(r.RequestParameters, &rp)
			var a ad
			_ = json.Unmarshal(r.AdditionalEventData, &a)
			if used[i] || r.EventName != w.name || rp.Key != w.key || r.ErrorCode != w.errCode {
				continue
			}
			if (w.in >= 0 && a.BytesTransferredIn < w.in) || (w.out >= 0 && a.BytesTransferredOut != w.out) {
				continue
			}
			used[i], found = true, true
			if r.ManagementEvent == w.data || (r.EventCategory == "Data") != w.data || r.AWSRegion != testserver.Region ||
				r.RecipientAccountID != testserver.AccountID || a.SignatureVersion != "SigV4" {
				t.Errorf("%s %s: category %s management %v region %s recipient %s %s", r.EventName, w.key, r.EventCategory, r.ManagementEvent, r.AWSRegion, r.RecipientAccountID, r.AdditionalEventData)
			}
			if w.errCode == "" && r.UserIdentity.Type != opentrail.IdentityRoot {
				t.Errorf("%s %s: identity %+v; want Root", r.EventName, w.key, r.UserIdentity)
			}
			if w.errCode == "XAdminUserNotFound" && (r.UserIdentity.Type != opentrail.IdentityUnknown || r.UserIdentity.AccessKeyID != deniedKey) {
				t.Errorf("denied record identity %+v; want Unknown %s", r.UserIdentity, deniedKey)
			}
			if w.errCode == "AccessDenied" && r.UserIdentity.UserName != "nobody" {
				t.Errorf("denied record identity %+v; want nobody", r.UserIdentity)
			}
			if w.key != "" && (len(r.Resources) != 2 || r.Resources[0].ARN != "arn:aws:s3:::data/"+w.key) {
				t.Errorf("%s %s: resources %+v", r.EventName, w.key, r.Resources)
			}
			if w.key == "dir/small.txt" && w.name == "GetObject" && w.errCode == "" && a.AuthenticationMethod != "QueryString" {
				t.Errorf("presigned GetObject: %s", r.AdditionalEventData)
			}
			break
		}
		if !found {
			t.Errorf("no record %+v among the data trail's", w)
		}
	}
	for _, r := range recs {
		if r.EventName != "CreateMultipartUpload" {
			continue
		}
		var re struct {
			UploadID string `json:"uploadId"`
			Key      string `json:"key"`
		}
		if err := json.Unmarshal(r.ResponseElements, &re); err != nil || re.UploadID != aws.ToString(mp.UploadId) || re.Key != "multi.bin" {
			t.Errorf("CreateMultipartUpload responseElements %s; want uploadId %s", r.ResponseElements, aws.ToString(mp.UploadId))
		}
	}
	if t.Failed() {
		for _, r := range recs {
			t.Logf("%s %s %s %s", r.EventName, r.ErrorCode, r.RequestParameters, r.AdditionalEventData)
		}
		t.FailNow()
	}

	// The management trail has PutBucketPolicy but no data events; Event History neither.
	time.Sleep(2 * time.Second)
	var sawPolicy bool
	for _, r := range gatewayRecords(t, e.srv, "trail-mgmt") {
		if r.EventSource != "s3.amazonaws.com" {
			continue
		}
		if r.EventCategory == "Data" {
			t.Errorf("management trail received data event %s", r.EventName)
		}
		sawPolicy = sawPolicy || r.EventName == "PutBucketPolicy"
	}
	if !sawPolicy {
		t.Error("management trail has no PutBucketPolicy")
	}
	hist := lookupAll(t, ct, cloudtrail.LookupEventsInput{LookupAttributes: []cttypes.LookupAttribute{{
		AttributeKey: cttypes.LookupAttributeKeyEventSource, AttributeValue: aws.String("s3.amazonaws.com")}}})
	names := map[string]bool{}
	for _, ev := range hist {
		names[aws.ToString(ev.EventName)] = true
	}
	if !names["PutBucketPolicy"] || names["GetObject"] || names["PutObject"] {
		t.Errorf("Event History S3 events %v; want PutBucketPolicy and no data events", names)
	}
}

// TestGatewayFrontDoorTLS sends SDK uploads over HTTPS (seekable and unseekable bodies, which
// the SDK may stream aws-chunked with a trailing checksum) through the front door to versitygw.
func TestGatewayFrontDoorTLS(t *testing.T) {
	cert, key, httpsClient := selfSigned(t)
	vgw := s3server.Start(t)
	vgw.CreateBucket(t, "data")
	gw := freeLoopback(t)
	srv := testserver.Start(t, testserver.WithTLS(cert, key, httpsClient),
		testserver.WithArgs("--gateway-listen", gw, "--gateway-backend", vgw.URL, "--gateway-mode", "front-door",
			"--gateway-backend-access-key-id", vgw.AccessKeyID),
		testserver.WithEnv("OPENTRAIL_GATEWAY_BACKEND_SECRET_ACCESS_KEY="+vgw.SecretAccessKey))
	ctx := testserver.Context(t)
	c := s3.New(s3.Options{
		Region: testserver.Region, BaseEndpoint: aws.String("https://" + gw), UsePathStyle: true, HTTPClient: httpsClient,
		Credentials: credentials.NewStaticCredentialsProvider(testserver.RootAccessKeyID, testserver.RootSecret, ""), RetryMaxAttempts: 1,
	})
	body := bytes.Repeat([]byte("tls chunked "), 100000)
	var seen string
	_, err := c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("t.bin"), Body: bytes.NewReader(body)},
		s3.WithAPIOptions(func(st *middleware.Stack) error {
			return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("seen", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleFinalize(ctx, in)
				if r, ok := in.Request.(*smithyhttp.Request); ok {
					seen = r.Header.Get("X-Amz-Content-Sha256")
				}
				return out, md, err
			}), middleware.After)
		}))
	if err != nil {
		t.Fatalf("PutObject over TLS: %v", err)
	}
	if seen != "UNSIGNED-PAYLOAD" {
		t.Logf("SDK payload hash over TLS, seekable body: %s", seen)
	}
	// A body the SDK cannot seek goes aws-chunked with a trailing checksum.
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("t2.bin"),
		Body: struct{ io.Reader }{bytes.NewReader(body)}, ContentLength: aws.Int64(int64(len(body)))},
		s3.WithAPIOptions(func(st *middleware.Stack) error {
			return st.Finalize.Add(middleware.FinalizeMiddlewareFunc("seen", func(ctx context.Context, in middleware.FinalizeInput, next middleware.FinalizeHandler) (middleware.FinalizeOutput, middleware.Metadata, error) {
				out, md, err := next.HandleFinalize(ctx, in)
				if r, ok := in.Request.(*smithyhttp.Request); ok {
					seen = r.Header.Get("X-Amz-Content-Sha256")
				}
				return out, md, err
			}), middleware.After)
		}))
	if err != nil {
		t.Fatalf("PutObject over TLS, unseekable body: %v", err)
	}
	t.Logf("SDK payload hash for an unseekable body over TLS: %s", seen)
	// An IAM user allowed s3:GetObject on data/* only: GetObject passes, PutObject and
	// ListObjectsV2 are denied by OpenTrail before reaching the store.
	iamc := iamapi.NewFromConfig(srv.RootConfig())
	if _, err := iamc.CreateUser(ctx, &iamapi.CreateUserInput{UserName: aws.String("reader")}); err != nil {
		t.Fatal(err)
	}
	if _, err := iamc.PutUserPolicy(ctx, &iamapi.PutUserPolicyInput{UserName: aws.String("reader"), PolicyName: aws.String("read"),
		PolicyDocument: aws.String(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"}]}`)}); err != nil {
		t.Fatal(err)
	}
	k, err := iamc.CreateAccessKey(ctx, &iamapi.CreateAccessKeyInput{UserName: aws.String("reader")})
	if err != nil {
		t.Fatal(err)
	}
	rc := s3.New(s3.Options{
		Region: testserver.Region, BaseEndpoint: aws.String("https://" + gw), UsePathStyle: true, HTTPClient: httpsClient,
		Credentials: credentials.NewStaticCredentialsProvider(*k.AccessKey.AccessKeyId, *k.AccessKey.SecretAccessKey, ""), RetryMaxAttempts: 1,
	})
	if out, err := rc.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("t.bin")}); err != nil {
		t.Fatalf("reader GetObject: %v", err)
	} else {
		out.Body.Close()
	}
	if _, err := rc.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("r.bin"), Body: strings.NewReader("no")}); s3Code(err) != "AccessDenied" {
		t.Fatalf("reader PutObject: %v; want AccessDenied", err)
	}
	if _, err := rc.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("data")}); s3Code(err) != "AccessDenied" {
		t.Fatalf("reader ListObjectsV2: %v; want AccessDenied", err)
	}
	if _, err := vgw.Client().HeadObject(ctx, &s3.HeadObjectInput{Bucket: aws.String("data"), Key: aws.String("r.bin")}); err == nil {
		t.Fatal("a denied PutObject reached the store")
	}

	for _, k := range []string{"t.bin", "t2.bin"} {
		out, err := vgw.Client().GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String(k)})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := io.ReadAll(out.Body)
		out.Body.Close()
		if !bytes.Equal(got, body) {
			t.Fatalf("versitygw holds %d bytes in %s; want %d", len(got), k, len(body))
		}
	}
}

// Front-door authorization evaluates policy conditions with the request's keys: a Deny
// conditioned on aws:SourceIp applies, an Allow conditioned on s3:prefix allows only that
// prefix, an Allow conditioned on aws:SecureTransport does not hold over plain HTTP.
func TestGatewayFrontDoorConditions(t *testing.T) {
	e := startGatewayEnv(t, "front-door")
	ctx := testserver.Context(t)
	for _, k := range []string{"public/a.txt", "secret/b.txt"} {
		if _, err := e.direct.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String(k), Body: strings.NewReader(k)}); err != nil {
			t.Fatal(err)
		}
	}
	iamc := iamapi.NewFromConfig(e.srv.RootConfig())
	if _, err := iamc.CreateUser(ctx, &iamapi.CreateUserInput{UserName: aws.String("cond")}); err != nil {
		t.Fatal(err)
	}
	policy := `{"Version":"2012-10-17","Statement":[
	 {"Effect":"Allow","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/*"},
	 {"Effect":"Deny","Action":"s3:GetObject","Resource":"arn:aws:s3:::data/secret/*","Condition":{"NotIpAddress":{"aws:SourceIp":"10.0.0.0/8"}}},
	 {"Effect":"Allow","Action":"s3:ListBucket","Resource":"arn:aws:s3:::data","Condition":{"StringLike":{"s3:prefix":"public/*"}}},
	 {"Effect":"Allow","Action":"s3:PutObject","Resource":"arn:aws:s3:::data/*","Condition":{"Bool":{"aws:SecureTransport":"true"}}}]}`
	if _, err := iamc.PutUserPolicy(ctx, &iamapi.PutUserPolicyInput{UserName: aws.String("cond"), PolicyName: aws.String("p"), PolicyDocument: aws.String(policy)}); err != nil {
		t.Fatal(err)
	}
	k, err := iamc.CreateAccessKey(ctx, &iamapi.CreateAccessKeyInput{UserName: aws.String("cond")})
	if err != nil {
		t.Fatal(err)
	}
	c := e.client(*k.AccessKey.AccessKeyId, *k.AccessKey.SecretAccessKey)
	check := func(what string, err error, want string) {
		t.Helper()
		if got := s3Code(err); got != want || (want == "" && err != nil) {
			t.Errorf("%s: %v; want %q", what, err, want)
		}
	}
	out, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("public/a.txt")})
	check("GetObject public/a.txt", err, "")
	if err == nil {
		out.Body.Close()
	}
	_, err = c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String("data"), Key: aws.String("secret/b.txt")})
	check("GetObject secret/b.txt from outside 10.0.0.0/8", err, "AccessDenied")
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("data"), Prefix: aws.String("public/")})
	check("ListObjectsV2 prefix public/", err, "")
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("data"), Prefix: aws.String("secret/")})
	check("ListObjectsV2 prefix secret/", err, "AccessDenied")
	_, err = c.ListObjectsV2(ctx, &s3.ListObjectsV2Input{Bucket: aws.String("data")})
	check("ListObjectsV2 without prefix", err, "AccessDenied")
	_, err = c.PutObject(ctx, &s3.PutObjectInput{Bucket: aws.String("data"), Key: aws.String("public/new.txt"), Body: strings.NewReader("x")})
	check("PutObject over plain HTTP", err, "AccessDenied")
}
