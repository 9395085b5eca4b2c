package e2e

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awsmiddleware "github.com/aws/aws-sdk-go-v2/aws/middleware"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	snsapi "github.com/aws/aws-sdk-go-v2/service/sns"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/middleware"

	"github.com/opentrail/opentrail/internal/blob"
	"github.com/opentrail/opentrail/internal/digest"
	"github.com/opentrail/opentrail/internal/sns"
	"github.com/opentrail/opentrail/internal/testserver"
	"github.com/opentrail/opentrail/internal/testserver/s3server"
)

// logKeyRE is AWS's log file key layout; group 1 is the account, 2 the region.
var logKeyRE = regexp.MustCompile(`^(?:.+/)?AWSLogs/(\d{12})/CloudTrail/([a-z0-9-]+)/\d{4}/\d{2}/\d{2}/\d{12}_CloudTrail_[a-z0-9-]+_\d{8}T\d{4}Z_[A-Za-z0-9]{16}\.json\.gz$`)

// deliveredRecord is a record found in a delivered log file.
type deliveredRecord struct {
	Key       string // the log file
	RequestID string `json:"requestID"`
	EventName string `json:"eventName"`
	AWSRegion string `json:"awsRegion"`
	ReadOnly  bool   `json:"readOnly"`
}

func gunzipOne(t *testing.T, b []byte) []byte {
	t.Helper()
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("gzip: %v", err)
	}
	zr.Multistream(false)
	out, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	if rest, _ := io.ReadAll(io.MultiReader(zr)); len(rest) > 0 {
		t.Fatal("more than one gzip member")
	}
	return out
}

// readLogFiles returns every record of every log file in bucket, checking each file's key
// layout and that its records happened in the key's region.
func readLogFiles(t *testing.T, store blob.Store, bucket string) []deliveredRecord {
	t.Helper()
	ctx := testserver.Context(t)
	var out []deliveredRecord
	err := store.List(ctx, bucket, "", "", func(o blob.Object) error {
		if !strings.Contains(o.Key, "/CloudTrail/") {
			return nil
		}
		m := logKeyRE.FindStringSubmatch(o.Key)
		if m == nil {
			t.Errorf("log file key %s does not follow AWS's layout", o.Key)
			return nil
		}
		obj, err := store.Get(ctx, bucket, o.Key)
		if err != nil {
			return err
		}
		var body struct{ Records []deliveredRecord }
		if err := json.Unmarshal(gunzipOne(t, obj.Body), &body); err != nil {
			t.Errorf("%s: %v", o.Key, err)
			return nil
		}
		for _, r := range body.Records {
			if r.AWSRegion != m[2] {
				t.Errorf("%s holds a record of %s", o.Key, r.AWSRegion)
			}
			r.Key = o.Key
			out = append(out, r)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("list %s: %v", bucket, err)
	}
	return out
}

// requestIDs returns the request IDs of records, sorted.
func requestIDs(recs []deliveredRecord) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.RequestID)
	}
	slices.Sort(out)
	return out
}

func requestID(md middleware.Metadata) string {
	id, _ := awsmiddleware.GetRequestIDMetadata(md)
	return id
}

// deliveryEnv is a server delivering to buckets of store; makeBucket creates one.
type deliveryEnv struct {
	srv        *testserver.Server
	store      blob.Store
	makeBucket func(name string)
	interval   time.Duration
	cfg        aws.Config // credentials of the server's first account
}

// adminCreateBucket makes a local bucket with the admin command while the server runs.
func adminCreateBucket(t *testing.T, srv *testserver.Server) func(string) {
	return func(name string) {
		out, err := exec.Command(testserver.Binary(t), "admin", "create-bucket", "--data-dir", srv.DataDir, name).CombinedOutput()
		if err != nil {
			t.Fatalf("admin create-bucket %s: %v\n%s", name, err, out)
		}
	}
}

func TestDeliveryLocalBuckets(t *testing.T) {
	srv := testserver.Start(t, testserver.WithArgs("--delivery-interval", "1s", "--digest-interval", "3s", "--regions", "us-east-1,us-west-2"))
	env := &deliveryEnv{srv: srv, store: blob.NewDir(filepath.Join(srv.DataDir, "buckets")), makeBucket: adminCreateBucket(t, srv), interval: time.Second, cfg: srv.RootConfig()}
	runDeliveryScenario(t, env)
}

// runDeliveryScenario checks, through the Go SDK against a real server, that trails receive
// exactly the records their selectors choose, under per-region keys, soon after the calls;
// that a stopped trail delivers its StopLogging call and nothing after it; and that a
// validating trail's digests verify with the keys ListPublicKeys returns.
func runDeliveryScenario(t *testing.T, env *deliveryEnv) {
	ctx := testserver.Context(t)
	cfg := env.cfg
	east := cloudtrail.NewFromConfig(cfg)
	west := cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) { o.Region = "us-west-2" })
	iamc := iam.NewFromConfig(cfg)
	stsWest := sts.NewFromConfig(cfg, func(o *sts.Options) { o.Region = "us-west-2" })

	trails := map[string]string{} // name → bucket
	for _, name := range []string{"all", "writes", "adv-reads", "data-only", "stopped"} {
		bucket := "logs-" + name
		env.makeBucket(bucket)
		trails[name] = bucket
	}
	create := func(name string, multi, validate bool) {
		t.Helper()
		_, err := east.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String(name), S3BucketName: aws.String(trails[name]),
			IsMultiRegionTrail: aws.Bool(multi), EnableLogFileValidation: aws.Bool(validate), S3KeyPrefix: aws.String("p/" + name)})
		if err != nil {
			t.Fatalf("CreateTrail %s: %v", name, err)
		}
	}
	create("all", true, true)
	create("writes", false, false)
	create("adv-reads", false, false)
	create("data-only", true, false)
	create("stopped", false, false)
	mustSel := func(in *cloudtrail.PutEventSelectorsInput) {
		t.Helper()
		if _, err := east.PutEventSelectors(ctx, in); err != nil {
			t.Fatalf("PutEventSelectors %s: %v", aws.ToString(in.TrailName), err)
		}
	}
	mustSel(&cloudtrail.PutEventSelectorsInput{TrailName: aws.String("writes"), EventSelectors: []cttypes.EventSelector{{ReadWriteType: cttypes.ReadWriteTypeWriteOnly}}})
	mustSel(&cloudtrail.PutEventSelectorsInput{TrailName: aws.String("adv-reads"), AdvancedEventSelectors: []cttypes.AdvancedEventSelector{{
		Name: aws.String("management reads"),
		FieldSelectors: []cttypes.AdvancedFieldSelector{
			{Field: aws.String("eventCategory"), Equals: []string{"Management"}},
			{Field: aws.String("readOnly"), Equals: []string{"true"}},
		},
	}}})
	mustSel(&cloudtrail.PutEventSelectorsInput{TrailName: aws.String("data-only"), EventSelectors: []cttypes.EventSelector{{
		ReadWriteType: cttypes.ReadWriteTypeAll, IncludeManagementEvents: aws.Bool(false),
		DataResources: []cttypes.DataResource{{Type: aws.String("AWS::S3::Object"), Values: []string{"arn:aws:s3"}}},
	}}})
	for name := range trails {
		if _, err := east.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String(name)}); err != nil {
			t.Fatal(err)
		}
	}
	stop, err := east.StopLogging(ctx, &cloudtrail.StopLoggingInput{Name: aws.String("stopped")})
	if err != nil {
		t.Fatal(err)
	}
	stopID := requestID(stop.ResultMetadata)

	// The calls whose records are followed: writes and reads, global (IAM) and regional, in
	// both regions.
	start := time.Now()
	u, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("delivery-user")})
	if err != nil {
		t.Fatal(err)
	}
	write := requestID(u.ResultMetadata)
	who, err := stsWest.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		t.Fatal(err)
	}
	readWest := requestID(who.ResultMetadata)
	lt, err := east.ListTrails(ctx, &cloudtrail.ListTrailsInput{})
	if err != nil {
		t.Fatal(err)
	}
	readEast := requestID(lt.ResultMetadata)
	dt, err := west.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	if err != nil {
		t.Fatal(err)
	}
	readWest2 := requestID(dt.ResultMetadata)
	followed := []string{write, readWest, readEast, readWest2}

	has := func(recs []deliveredRecord, id string) bool {
		return slices.ContainsFunc(recs, func(r deliveredRecord) bool { return r.RequestID == id })
	}
	var all []deliveredRecord
	deadline := time.Now().Add(30 * env.interval)
	for {
		all = readLogFiles(t, env.store, trails["all"])
		if !slices.ContainsFunc(followed, func(id string) bool { return !has(all, id) }) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the followed calls did not all reach trail all's bucket; it holds %v\nserver output:\n%s", requestIDs(all), env.srv.Output())
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("all followed calls delivered %v after the first call (delivery interval %v)", time.Since(start).Round(time.Millisecond), env.interval)
	// Let the other trails' files land too (they are written by the same flush).
	time.Sleep(2 * env.interval)

	// The multi-region trail has every record, each under the region it happened in, once.
	all = readLogFiles(t, env.store, trails["all"])
	for _, id := range followed {
		n := 0
		for _, r := range all {
			if r.RequestID == id {
				n++
				if !strings.HasPrefix(r.Key, "p/all/AWSLogs/"+testserver.AccountID+"/CloudTrail/"+r.AWSRegion+"/") {
					t.Errorf("record %s in %s", id, r.Key)
				}
			}
		}
		if n != 1 {
			t.Errorf("record %s delivered %d times to trail all", id, n)
		}
	}
	// Write-only (single-region us-east-1): the IAM write, no reads.
	writes := readLogFiles(t, env.store, trails["writes"])
	if !has(writes, write) || has(writes, readEast) || has(writes, readWest) {
		t.Errorf("trail writes holds %v; want the write %s and no reads", requestIDs(writes), write)
	}
	for _, r := range writes {
		if r.ReadOnly || r.AWSRegion != "us-east-1" {
			t.Errorf("trail writes holds %s (%s, readOnly %v)", r.EventName, r.AWSRegion, r.ReadOnly)
		}
	}
	// Advanced selector, management reads, single-region us-east-1.
	reads := readLogFiles(t, env.store, trails["adv-reads"])
	if !has(reads, readEast) || has(reads, write) || has(reads, readWest) {
		t.Errorf("trail adv-reads holds %v; want %s only among the followed", requestIDs(reads), readEast)
	}
	for _, r := range reads {
		if !r.ReadOnly {
			t.Errorf("trail adv-reads holds write %s", r.EventName)
		}
	}
	// Data events only: management calls never reach it.
	if got := readLogFiles(t, env.store, trails["data-only"]); len(got) != 0 {
		t.Errorf("data-only trail received management records: %v", requestIDs(got))
	}
	// The stopped trail delivered its StopLogging call and none of the later calls.
	stopped := readLogFiles(t, env.store, trails["stopped"])
	if !has(stopped, stopID) {
		t.Errorf("stopped trail lacks its StopLogging record %s: %v", stopID, requestIDs(stopped))
	}
	for _, id := range followed {
		if has(stopped, id) {
			t.Errorf("stopped trail received %s", id)
		}
	}

	// Status shows the delivery.
	st, err := east.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("all")})
	if err != nil {
		t.Fatal(err)
	}
	if st.LatestDeliveryTime == nil || aws.ToString(st.LatestDeliveryError) != "" {
		t.Errorf("GetTrailStatus after delivery: LatestDeliveryTime %v, LatestDeliveryError %q", st.LatestDeliveryTime, aws.ToString(st.LatestDeliveryError))
	}

	// Digests of the validating trail, per region, verify with ListPublicKeys' keys and list
	// every log file of their region.
	checkDigests(t, env, trails["all"], "p/all", []string{"us-east-1", "us-west-2"}, all)
}

// checkDigests waits for two digests per region and checks that they chain, verify with the
// region's public keys and list the log files delivered before them.
func checkDigests(t *testing.T, env *deliveryEnv, bucket, prefix string, regions []string, delivered []deliveredRecord) {
	t.Helper()
	ctx := testserver.Context(t)
	cfg := env.cfg
	for _, region := range regions {
		dir := prefix + "/AWSLogs/" + testserver.AccountID + "/CloudTrail-Digest/" + region + "/"
		var keys []string
		deadline := time.Now().Add(60 * time.Second)
		for len(keys) < 3 {
			if time.Now().After(deadline) {
				t.Fatalf("fewer than 3 digests in %s: %v", dir, keys)
			}
			time.Sleep(200 * time.Millisecond)
			keys = keys[:0]
			if err := env.store.List(ctx, bucket, dir, "", func(o blob.Object) error { keys = append(keys, o.Key); return nil }); err != nil {
				t.Fatal(err)
			}
		}
		ct := cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) { o.Region = region })
		pk, err := ct.ListPublicKeys(ctx, &cloudtrail.ListPublicKeysInput{StartTime: aws.Time(time.Now().Add(-time.Hour)), EndTime: aws.Time(time.Now().Add(time.Hour))})
		if err != nil {
			t.Fatal(err)
		}
		pubs := map[string][]byte{}
		for _, k := range pk.PublicKeyList {
			pubs[aws.ToString(k.Fingerprint)] = k.Value
		}
		listed := map[string]bool{}
		var prevSig, prevHash, prevKey string
		for i, k := range keys {
			obj, err := env.store.Get(ctx, bucket, k)
			if err != nil {
				t.Fatal(err)
			}
			raw := gunzipOne(t, obj.Body)
			d, err := digest.Parse(raw)
			if err != nil {
				t.Fatalf("%s: %v", k, err)
			}
			der, ok := pubs[d.DigestPublicKeyFingerprint]
			if !ok {
				t.Fatalf("%s: fingerprint %s not listed by ListPublicKeys in %s", k, d.DigestPublicKeyFingerprint, region)
			}
			pub, err := digest.PublicKey{Value: der}.RSA()
			if err != nil {
				t.Fatal(err)
			}
			if err := digest.Verify(pub, d, raw, obj.Metadata[digest.MetaSignature]); err != nil {
				t.Errorf("%s: %v", k, err)
			}
			if obj.Metadata[digest.MetaSignatureAlgorithm] != digest.SignatureAlgorithm {
				t.Errorf("%s: signature-algorithm metadata %q", k, obj.Metadata[digest.MetaSignatureAlgorithm])
			}
			if i > 0 && (d.PreviousDigestS3Object == nil || *d.PreviousDigestS3Object != prevKey ||
				*d.PreviousDigestSignature != prevSig || *d.PreviousDigestHashValue != prevHash) {
				t.Errorf("%s does not chain to %s", k, prevKey)
			}
			prevKey, prevSig, prevHash = k, obj.Metadata[digest.MetaSignature], digest.Hash(raw)
			for _, lf := range d.LogFiles {
				listed[lf.S3Object] = true
			}
		}
		for _, r := range delivered {
			if r.AWSRegion == region && !listed[r.Key] {
				t.Errorf("log file %s is in none of the digests %v", r.Key, keys)
			}
		}
	}
}

// TestDeliveryNotification: a trail with an SNS topic publishes AWS's log-delivery
// notification for its log files; an HTTP endpoint subscribed to the topic (confirmed
// through SubscribeURL) receives it signed, the signature verifies with the certificate at
// SigningCertURL, and every key it lists is a delivered log file.
func TestDeliveryNotification(t *testing.T) {
	srv := testserver.Start(t, testserver.WithArgs("--delivery-interval", "1s", "--regions", "us-east-1"))
	ctx := testserver.Context(t)
	adminCreateBucket(t, srv)("notified-logs")
	store := blob.NewDir(filepath.Join(srv.DataDir, "buckets"))

	bodies := make(chan []byte, 100)
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies <- b
	}))
	defer endpoint.Close()
	next := func(wantType string) (*sns.Envelope, []byte) {
		t.Helper()
		for {
			select {
			case b := <-bodies:
				var e sns.Envelope
				if err := json.Unmarshal(b, &e); err != nil {
					t.Fatalf("endpoint got %s: %v", b, err)
				}
				if e.Type == wantType {
					return &e, b
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("no %s message", wantType)
			}
		}
	}

	cfg := srv.RootConfig()
	snsc := snsapi.NewFromConfig(cfg)
	topic, err := snsc.CreateTopic(ctx, &snsapi.CreateTopicInput{Name: aws.String("trail-notes")})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := snsc.Subscribe(ctx, &snsapi.SubscribeInput{TopicArn: topic.TopicArn, Protocol: aws.String("http"), Endpoint: aws.String(endpoint.URL)}); err != nil {
		t.Fatal(err)
	}
	conf, _ := next("SubscriptionConfirmation")
	resp, err := http.Get(conf.SubscribeURL)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("SubscribeURL: %s", resp.Status)
	}

	ct := cloudtrail.NewFromConfig(cfg)
	out, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("notified"), S3BucketName: aws.String("notified-logs"), SnsTopicName: aws.String("trail-notes")})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(out.SnsTopicARN) != aws.ToString(topic.TopicArn) {
		t.Errorf("SnsTopicARN %s, want %s", aws.ToString(out.SnsTopicARN), aws.ToString(topic.TopicArn))
	}
	if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("notified")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{}); err != nil {
		t.Fatal(err)
	}

	note, raw := next("Notification")
	certResp, err := http.Get(note.SigningCertURL)
	if err != nil {
		t.Fatal(err)
	}
	pemBytes, _ := io.ReadAll(certResp.Body)
	certResp.Body.Close()
	cert, err := sns.ParseCertificate(pemBytes)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sns.VerifyMessage(raw, cert); err != nil {
		t.Fatalf("notification signature: %v", err)
	}
	tampered := bytes.Replace(raw, []byte("notified-logs"), []byte("notified-logz"), 1)
	if _, err := sns.VerifyMessage(tampered, cert); err == nil {
		t.Error("a tampered notification verifies")
	}
	var msg struct {
		S3Bucket    string   `json:"s3Bucket"`
		S3ObjectKey []string `json:"s3ObjectKey"`
	}
	if err := json.Unmarshal([]byte(note.Message), &msg); err != nil {
		t.Fatalf("Message %q: %v", note.Message, err)
	}
	if msg.S3Bucket != "notified-logs" || len(msg.S3ObjectKey) == 0 {
		t.Fatalf("notification message %s", note.Message)
	}
	for _, k := range msg.S3ObjectKey {
		if _, err := store.Get(ctx, "notified-logs", k); err != nil {
			t.Errorf("notified key %s: %v", k, err)
		}
		if !logKeyRE.MatchString(k) {
			t.Errorf("notified key %s is not a log file key", k)
		}
	}
	st, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("notified")})
	if err != nil {
		t.Fatal(err)
	}
	if st.LatestNotificationTime == nil || aws.ToString(st.LatestNotificationError) != "" {
		t.Errorf("status: LatestNotificationTime %v, LatestNotificationError %q", st.LatestNotificationTime, aws.ToString(st.LatestNotificationError))
	}
}

// s3Delivery starts versitygw and a server whose buckets live there. The server's root
// credentials are versitygw's, so that one set of credentials serves both (as the AWS CLI's
// validate-logs needs).
func s3Delivery(t *testing.T, args ...string) (*deliveryEnv, *s3server.Server) {
	t.Helper()
	gw := s3server.Start(t)
	args = append(args, "--root-access-key-id", gw.AccessKeyID, "--root-secret-access-key", gw.SecretAccessKey)
	srv := testserver.Start(t, testserver.WithEnv(gw.ServeEnv()...), testserver.WithArgs(args...))
	store, err := blob.NewS3(blob.S3Options{Endpoint: gw.URL, AccessKeyID: gw.AccessKeyID, SecretAccessKey: gw.SecretAccessKey})
	if err != nil {
		t.Fatal(err)
	}
	env := &deliveryEnv{srv: srv, store: store, makeBucket: func(name string) { gw.CreateBucket(t, name) }, interval: time.Second,
		cfg: srv.Config(gw.AccessKeyID, gw.SecretAccessKey, "")}
	return env, gw
}

func TestDeliveryS3(t *testing.T) {
	env, _ := s3Delivery(t, "--delivery-interval", "1s", "--digest-interval", "3s", "--regions", "us-east-1,us-west-2")
	runDeliveryScenario(t, env)
}

// TestDeliveryS3Outage stops the S3 server for a while during delivery: the trail's status
// shows the error, and once S3 is back every acknowledged call is delivered exactly once.
func TestDeliveryS3Outage(t *testing.T) {
	env, gw := s3Delivery(t, "--delivery-interval", "1s", "--regions", "us-east-1")
	ctx := testserver.Context(t)
	env.makeBucket("outage-logs")
	ct := cloudtrail.NewFromConfig(env.cfg)
	if _, err := ct.CreateTrail(ctx, &cloudtrail.CreateTrailInput{Name: aws.String("outage"), S3BucketName: aws.String("outage-logs")}); err != nil {
		t.Fatal(err)
	}
	if _, err := ct.StartLogging(ctx, &cloudtrail.StartLoggingInput{Name: aws.String("outage")}); err != nil {
		t.Fatal(err)
	}
	load := startCallLoad(ctx, env.cfg, 2)
	time.Sleep(1500 * time.Millisecond)
	gw.Stop()
	deadline := time.Now().Add(30 * time.Second)
	for {
		st, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("outage")})
		if err != nil {
			t.Fatal(err)
		}
		if e := aws.ToString(st.LatestDeliveryError); e != "" {
			t.Logf("during the outage: LatestDeliveryError %q", e)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no LatestDeliveryError while S3 is down")
		}
		time.Sleep(200 * time.Millisecond)
	}
	time.Sleep(2 * time.Second)
	gw.Start()
	time.Sleep(time.Second)
	acked := load.finish()
	count := waitDelivered(t, env.store, "outage-logs", acked, 60*time.Second)
	for id, n := range count {
		if n > 1 {
			t.Errorf("record %s delivered %d times", id, n)
		}
	}
	deadline = time.Now().Add(30 * time.Second)
	for {
		st, err := ct.GetTrailStatus(ctx, &cloudtrail.GetTrailStatusInput{Name: aws.String("outage")})
		if err != nil {
			t.Fatal(err)
		}
		if aws.ToString(st.LatestDeliveryError) == "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("LatestDeliveryError still %q after S3 came back", aws.ToString(st.LatestDeliveryError))
		}
		time.Sleep(200 * time.Millisecond)
	}
	t.Logf("%d acknowledged calls delivered once each across the outage", len(acked))
}
