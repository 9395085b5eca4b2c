package server_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/awsproto"
	"github.com/opentrail/opentrail/internal/journal"
	"github.com/opentrail/opentrail/internal/journal/faultfs"
	"github.com/opentrail/opentrail/internal/server"
)

const (
	testAccount = "123456789012"
	testKeyID   = "AKIARECORDERTEST0001"
	testSecret  = "recorder-test-secret-0123456789abcdefghij"
)

// journalRecorder is what `opentrail serve` wires in: records go to the journal, as JSON,
// before the response is written.
type journalRecorder struct{ j *journal.Journal }

func (r journalRecorder) Record(ctx context.Context, e *opentrail.Event) error {
	b, err := json.Marshal(e)
	if err != nil {
		return err
	}
	_, err = r.j.Append(ctx, b)
	return err
}

// rootOnly knows one access key: the root user of testAccount.
type rootOnly struct{}

func (rootOnly) LookupKey(id string) (server.Credentials, bool) {
	if id != testKeyID {
		return server.Credentials{}, false
	}
	return server.Credentials{Secret: testSecret, Caller: opentrail.Caller{
		Type: opentrail.IdentityRoot, AccountID: testAccount, ARN: "arn:aws:iam::" + testAccount + ":root",
		PrincipalID: testAccount, AccessKeyID: testKeyID,
	}}, true
}

type callerIdentity struct {
	UserId  string
	Account string
	Arn     string
}

// stsService is a minimal STS with GetCallerIdentity.
func stsService() *server.Service {
	svc := &server.Service{
		Name:        "sts",
		EventSource: "sts.amazonaws.com",
		APIVersion:  "2011-06-15",
		Wire:        awsproto.Wire{Protocol: awsproto.Query, XMLNamespace: "https://sts.amazonaws.com/doc/2011-06-15/"},
	}
	svc.Add(server.Op("GetCallerIdentity", server.OpOptions[server.NoOutput]{ReadOnly: true, NoAuthorize: true},
		func(_ context.Context, c *server.Call, _ *server.NoOutput) (*callerIdentity, error) {
			return &callerIdentity{UserId: c.Caller.PrincipalID, Account: c.Caller.AccountID, Arn: c.Caller.ARN}, nil
		}))
	return svc
}

// TestRecorderFailureIsServiceUnavailable runs the server over a journal on a file system that
// fails in the ways a disk does: every call whose record cannot be made durable fails with 503
// ServiceUnavailable and is not in the journal; once the disk heals, calls succeed again without
// a restart, and the journal holds exactly the calls that succeeded.
func TestRecorderFailureIsServiceUnavailable(t *testing.T) {
	ffs := faultfs.New(journal.OSFS{})
	jdir := t.TempDir()
	j, err := journal.Open(jdir, journal.Options{FS: ffs})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if j != nil {
			_ = j.Close()
		}
	}()
	srv := server.New(server.Config{
		Regions:       []string{"us-east-1"},
		Authenticator: rootOnly{},
		Recorder:      journalRecorder{j},
	})
	srv.Register(stsService())
	ts := httptest.NewServer(srv)
	defer ts.Close()
	client := sts.New(sts.Options{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
		BaseEndpoint:     aws.String(ts.URL),
		HTTPClient:       ts.Client(),
		RetryMaxAttempts: 1,
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	succeeded := 0
	// calls makes n concurrent calls and returns their errors.
	calls := func(n int) []error {
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var out *sts.GetCallerIdentityOutput
				out, errs[i] = client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
				if errs[i] == nil && aws.ToString(out.Arn) != "arn:aws:iam::"+testAccount+":root" {
					errs[i] = fmt.Errorf("wrong caller %s", aws.ToString(out.Arn))
				}
			}()
		}
		wg.Wait()
		return errs
	}
	mustSucceed := func(when string, n int) {
		t.Helper()
		for _, err := range calls(n) {
			if err != nil {
				t.Fatalf("%s: %v", when, err)
			}
			succeeded++
		}
		if got := j.LastSeq(); got != uint64(succeeded) {
			t.Fatalf("%s: journal holds %d records, want %d (one per successful call)", when, got, succeeded)
		}
	}
	mustRefuse := func(when string, n int) {
		t.Helper()
		for _, err := range calls(n) {
			var ae smithy.APIError
			if !errors.As(err, &ae) || ae.ErrorCode() != "ServiceUnavailable" {
				t.Fatalf("%s: got %v, want ServiceUnavailable", when, err)
			}
			var re *awshttp.ResponseError
			if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusServiceUnavailable {
				t.Fatalf("%s: %v: want HTTP status 503", when, err)
			}
			if msg := strings.ToLower(ae.ErrorMessage()); strings.Contains(msg, "space") || strings.Contains(msg, "segment") || strings.Contains(msg, jdir) {
				t.Fatalf("%s: error message reveals internals: %q", when, ae.ErrorMessage())
			}
		}
		if got := j.LastSeq(); got != uint64(succeeded) {
			t.Fatalf("%s: journal holds %d records, want %d: a refused call was recorded", when, got, succeeded)
		}
	}

	mustSucceed("healthy disk", 4)
	for _, tc := range []struct {
		name   string
		inject func()
	}{
		{"disk full", func() { ffs.LimitWrites(0, syscall.ENOSPC) }},
		{"disk fills mid-write", func() { ffs.LimitWrites(700, syscall.ENOSPC) }},
		{"read-only file system", func() { ffs.Inject(faultfs.FailOp(faultfs.OpWrite, syscall.EROFS)) }},
		{"fsync fails", func() { ffs.Inject(faultfs.FailOp(faultfs.OpSync, syscall.EIO)) }},
		{"rollback fails too", func() {
			ffs.LimitWrites(700, syscall.ENOSPC)
			ffs.Inject(faultfs.FailOp(faultfs.OpTruncate, syscall.EIO))
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tc.inject()
			mustRefuse(tc.name+", one call", 1)
			mustRefuse(tc.name+", concurrent calls", 16)
			ffs.Heal()
			mustSucceed(tc.name+", healed", 1)
			mustSucceed(tc.name+", healed, concurrent calls", 16)
		})
		if t.Failed() {
			return
		}
	}

	// The journal reopens cleanly and holds one intact record per successful call.
	if err := j.Close(); err != nil {
		t.Fatalf("close journal: %v", err)
	}
	j = nil
	j2, err := journal.Open(jdir, journal.Options{})
	if err != nil {
		t.Fatalf("reopen journal: %v", err)
	}
	defer j2.Close()
	if got := j2.LastSeq(); got != uint64(succeeded) {
		t.Fatalf("reopened journal holds %d records, want %d", got, succeeded)
	}
	r := j2.NewReader(1)
	defer r.Close()
	ids := make(map[string]bool)
	for seq := uint64(1); seq <= uint64(succeeded); seq++ {
		rec, err := r.Next(ctx)
		if err != nil {
			t.Fatalf("record %d: %v", seq, err)
		}
		var e opentrail.Event
		if err := json.Unmarshal(rec.Payload, &e); err != nil {
			t.Fatalf("record %d: %v", seq, err)
		}
		if rec.Seq != seq || e.EventName != "GetCallerIdentity" || e.EventSource != "sts.amazonaws.com" || e.ErrorCode != "" ||
			e.UserIdentity == nil || e.UserIdentity.Type != opentrail.IdentityRoot || e.RecipientAccountID != testAccount {
			t.Fatalf("record %d: unexpected %s", rec.Seq, rec.Payload)
		}
		if ids[e.RequestID] {
			t.Fatalf("record %d: requestID %s recorded twice", rec.Seq, e.RequestID)
		}
		ids[e.RequestID] = true
	}
}

// healthRecorder is journalRecorder that remembers whether its last append failed, as the one
// `opentrail serve` wires in does (server.HealthReporter).
type healthRecorder struct {
	journalRecorder
	failed atomic.Bool
}

func (r *healthRecorder) Record(ctx context.Context, e *opentrail.Event) error {
	err := r.journalRecorder.Record(ctx, e)
	r.failed.Store(err != nil)
	return err
}

func (r *healthRecorder) Healthy() bool { return !r.failed.Load() }

type assumedRoleUser struct {
	Arn           string
	AssumedRoleId string
}

type assumeRoleOutput struct {
	AssumedRoleUser assumedRoleUser
}

// TestRecorderRefusesMutationsWhileFailing checks that once the journal has failed an append,
// mutating calls are refused with 503 ServiceUnavailable without running, so that nothing
// changes unrecorded while the disk is full; read-only calls still run; and the first record
// that lands again re-opens the server.
func TestRecorderRefusesMutationsWhileFailing(t *testing.T) {
	ffs := faultfs.New(journal.OSFS{})
	j, err := journal.Open(t.TempDir(), journal.Options{FS: ffs})
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	rec := &healthRecorder{journalRecorder: journalRecorder{j}}
	srv := server.New(server.Config{Regions: []string{"us-east-1"}, Authenticator: rootOnly{}, Recorder: rec})
	svc := stsService()
	var runs atomic.Int32 // AssumeRole handler runs: the state changes
	svc.Add(server.Op("AssumeRole", server.OpOptions[struct{ RoleArn, RoleSessionName string }]{NoAuthorize: true},
		func(_ context.Context, _ *server.Call, in *struct{ RoleArn, RoleSessionName string }) (*assumeRoleOutput, error) {
			runs.Add(1)
			return &assumeRoleOutput{assumedRoleUser{Arn: in.RoleArn + "/" + in.RoleSessionName, AssumedRoleId: "AROAEXAMPLE:" + in.RoleSessionName}}, nil
		}))
	srv.Register(svc)
	ts := httptest.NewServer(srv)
	defer ts.Close()
	client := sts.New(sts.Options{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(testKeyID, testSecret, ""),
		BaseEndpoint:     aws.String(ts.URL),
		HTTPClient:       ts.Client(),
		RetryMaxAttempts: 1,
	})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()

	assume := func(session string) error {
		_, err := client.AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::" + testAccount + ":role/r"), RoleSessionName: aws.String(session)})
		return err
	}
	identity := func() error {
		_, err := client.GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
		return err
	}
	check := func(step string, err error, wantCode string, wantRuns int32, wantRecords uint64) {
		t.Helper()
		var ae smithy.APIError
		switch {
		case wantCode == "" && err != nil:
			t.Fatalf("%s: %v", step, err)
		case wantCode != "" && (!errors.As(err, &ae) || ae.ErrorCode() != wantCode):
			t.Fatalf("%s: got %v, want %s", step, err, wantCode)
		}
		if got := runs.Load(); got != wantRuns {
			t.Fatalf("%s: the mutating handler has run %d times, want %d", step, got, wantRuns)
		}
		if got := j.LastSeq(); got != wantRecords {
			t.Fatalf("%s: journal holds %d records, want %d", step, got, wantRecords)
		}
	}

	check("healthy AssumeRole", assume("s1"), "", 1, 1)
	ffs.LimitWrites(0, syscall.ENOSPC)
	// The call that discovers the failure has already run: the documented window.
	check("AssumeRole as the disk fills", assume("s2"), "ServiceUnavailable", 2, 1)
	check("AssumeRole while full", assume("s3"), "ServiceUnavailable", 2, 1)
	check("GetCallerIdentity while full", identity(), "ServiceUnavailable", 2, 1)
	check("AssumeRole while full, again", assume("s4"), "ServiceUnavailable", 2, 1)
	ffs.Heal()
	// Still refused, but the refusal's own record lands and re-opens the server.
	check("first AssumeRole after healing", assume("s5"), "ServiceUnavailable", 2, 2)
	check("second AssumeRole after healing", assume("s6"), "", 3, 3)

	// A read-only call re-opens the server as well.
	ffs.LimitWrites(0, syscall.ENOSPC)
	check("GetCallerIdentity as the disk fills", identity(), "ServiceUnavailable", 3, 3)
	check("AssumeRole while full", assume("s7"), "ServiceUnavailable", 3, 3)
	ffs.Heal()
	check("GetCallerIdentity after healing", identity(), "", 3, 4)
	check("AssumeRole after healing", assume("s8"), "", 4, 5)

	// The records: the refusal that landed says so. (Its requestParameters are null today:
	// the server refuses before decoding the input. Naming the session would be better, and
	// is accepted too.)
	r := j.NewReader(1)
	defer r.Close()
	var got []string
	for range j.LastSeq() {
		rec, err := r.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var e struct {
			EventName         string
			ErrorCode         string
			RequestParameters struct{ RoleSessionName string }
		}
		if err := json.Unmarshal(rec.Payload, &e); err != nil {
			t.Fatal(err)
		}
		if e.ErrorCode != "" && e.RequestParameters.RoleSessionName == "" {
			e.RequestParameters.RoleSessionName = "s5"
		}
		got = append(got, strings.Join(strings.Fields(e.EventName+" "+e.RequestParameters.RoleSessionName+" "+e.ErrorCode), " "))
	}
	want := []string{"AssumeRole s1", "AssumeRole s5 ServiceUnavailable", "AssumeRole s6", "GetCallerIdentity", "AssumeRole s8"}
	if !slices.Equal(got, want) {
		t.Fatalf("records:\n%q\nwant\n%q", got, want)
	}
}
