package e2e

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"path/filepath"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/smithy-go"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/journal"
	"github.com/opentrail/opentrail/internal/testserver"
)

// A trace is what the HTTP layer saw of one SDK call: the status of the response, if the
// server sent one. It travels in the call's context to traceClient.
type trace struct {
	status atomic.Int32 // 0 until a response (its status line and headers) has arrived
}

type traceKey struct{}

func withTrace(ctx context.Context, tr *trace) context.Context {
	return context.WithValue(ctx, traceKey{}, tr)
}

// traceClient is the SDK's HTTP client with the raw status of every response noted in the
// request's trace. A status means the server answered, and the server writes nothing before
// the call's record is durable, so a traced status is an acknowledgement.
type traceClient struct{ base *http.Client }

func newTraceClient() *traceClient {
	return &traceClient{base: &http.Client{
		Timeout: 10 * time.Second,
		Transport: &http.Transport{
			MaxIdleConnsPerHost: 64,
			IdleConnTimeout:     30 * time.Second,
		},
	}}
}

func (c *traceClient) Do(r *http.Request) (*http.Response, error) {
	resp, err := c.base.Do(r)
	if err == nil {
		if tr, ok := r.Context().Value(traceKey{}).(*trace); ok {
			tr.status.Store(int32(resp.StatusCode))
		}
	}
	return resp, err
}

func (c *traceClient) close() { c.base.CloseIdleConnections() }

// errCode is the AWS error code of err: "" for nil, and "?" for an error that is not an AWS
// error response (a transport error, a response cut short).
func errCode(err error) string {
	if err == nil {
		return ""
	}
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return "?"
}

// journalEntry is one record read back from a journal.
type journalEntry struct {
	Seq   uint64
	Event opentrail.Event
	// UserName is requestParameters.userName, if any.
	UserName string
}

// readJournal opens the journal in dir (the server must be stopped), reads every record from
// sequence number 1 to LastSeq and checks that the sequence numbers run without gaps and that
// every payload is a CloudTrail record in JSON.
func readJournal(t *testing.T, dir string) []journalEntry {
	t.Helper()
	j, err := journal.Open(dir, journal.Options{})
	if err != nil {
		t.Fatalf("reopen journal: %v", err)
	}
	defer j.Close()
	if first := j.FirstSeq(); first != 1 {
		t.Fatalf("journal FirstSeq = %d, want 1", first)
	}
	last := j.LastSeq()
	r := j.NewReader(1)
	defer r.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	out := make([]journalEntry, 0, last)
	for want := uint64(1); want <= last; want++ {
		rec, err := r.Next(ctx)
		if err != nil {
			t.Fatalf("journal record %d of %d: %v", want, last, err)
		}
		if rec.Seq != want {
			t.Fatalf("journal record has sequence number %d, want %d", rec.Seq, want)
		}
		if !json.Valid(rec.Payload) {
			t.Fatalf("journal record %d is not valid JSON: %q", rec.Seq, rec.Payload)
		}
		e := journalEntry{Seq: rec.Seq}
		if err := json.Unmarshal(rec.Payload, &e.Event); err != nil {
			t.Fatalf("journal record %d is not a CloudTrail record: %v", rec.Seq, err)
		}
		if e.Event.EventID == "" || e.Event.EventName == "" || e.Event.EventSource == "" {
			t.Fatalf("journal record %d lacks eventID, eventName or eventSource: %s", rec.Seq, rec.Payload)
		}
		var params struct {
			UserName string `json:"userName"`
		}
		if len(e.Event.RequestParameters) > 0 && string(e.Event.RequestParameters) != "null" {
			if err := json.Unmarshal(e.Event.RequestParameters, &params); err != nil {
				t.Fatalf("journal record %d: requestParameters: %v", rec.Seq, err)
			}
		}
		e.UserName = params.UserName
		out = append(out, e)
	}
	return out
}

// checkUniqueIDs fails the test if two records share an eventID or a requestID.
func checkUniqueIDs(t *testing.T, entries []journalEntry) {
	t.Helper()
	eventIDs := make(map[string]uint64, len(entries))
	requestIDs := make(map[string]uint64, len(entries))
	for _, e := range entries {
		if prev, dup := eventIDs[e.Event.EventID]; dup {
			t.Errorf("records %d and %d share eventID %s", prev, e.Seq, e.Event.EventID)
		}
		eventIDs[e.Event.EventID] = e.Seq
		if e.Event.RequestID == "" {
			continue
		}
		if prev, dup := requestIDs[e.Event.RequestID]; dup {
			t.Errorf("records %d and %d share requestID %s", prev, e.Seq, e.Event.RequestID)
		}
		requestIDs[e.Event.RequestID] = e.Seq
	}
}

// sentCall is one API call a test made and what came back.
type sentCall struct {
	name   string // the unique user name in its request
	op     string // CreateUser or GetUser
	status int    // raw HTTP status; 0 if no response arrived
	code   string // AWS error code; "" on success
}

// acknowledged reports whether the server answered the call.
func (c sentCall) acknowledged() bool { return c.status != 0 }

// refused reports whether the server answered 503 ServiceUnavailable: the journal could not
// take the call's record, or (for a mutating call) had just failed, so the call was refused
// without running.
func (c sentCall) refused() bool {
	return c.status == http.StatusServiceUnavailable && c.code == "ServiceUnavailable"
}

// recorded reports whether the answer promises a record: every answer does except 503
// ServiceUnavailable.
func (c sentCall) recorded() bool { return c.acknowledged() && !c.refused() }

// checkCalls matches calls against the records whose userName starts with prefix: a call the
// server acknowledged (except with 503 ServiceUnavailable) has exactly one record, with the
// operation and the error code the client saw; a read-only call refused with 503 has none,
// and a mutating one at most one, saying ServiceUnavailable (the server refuses mutating calls
// while the journal is failing, and still tries to record the refusal); an unanswered call has
// at most one; no record names a call that was never sent. It returns how many unanswered
// calls were recorded anyway.
func checkCalls(t *testing.T, entries []journalEntry, prefix string, calls []sentCall) (unackedRecorded int) {
	t.Helper()
	byName := make(map[string][]journalEntry)
	for _, e := range entries {
		if len(e.UserName) >= len(prefix) && e.UserName[:len(prefix)] == prefix {
			byName[e.UserName] = append(byName[e.UserName], e)
		}
	}
	sent := make(map[string]bool, len(calls))
	for _, c := range calls {
		if sent[c.name] {
			t.Fatalf("test bug: name %s sent twice", c.name)
		}
		sent[c.name] = true
	}
	var names []string
	for name := range byName {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		recs := byName[name]
		if !sent[name] {
			t.Errorf("record %d names %s, which was never sent", recs[0].Seq, name)
		}
		if len(recs) > 1 {
			seqs := make([]uint64, len(recs))
			for i, r := range recs {
				seqs[i] = r.Seq
			}
			t.Errorf("%s has %d records (sequence numbers %v), want at most 1", name, len(recs), seqs)
		}
	}
	failures := 0
	fail := func(format string, args ...any) {
		if failures++; failures <= 20 {
			t.Errorf(format, args...)
		}
	}
	for _, c := range calls {
		recs := byName[c.name]
		switch {
		case c.recorded():
			if len(recs) != 1 {
				fail("%s %s was answered (HTTP %d, code %q) but has %d records, want 1", c.op, c.name, c.status, c.code, len(recs))
				continue
			}
			e := recs[0].Event
			if e.EventName != c.op || e.EventSource != "iam.amazonaws.com" || (c.code != "?" && e.ErrorCode != c.code) {
				fail("%s %s (code %q): record %d says %s %s, errorCode %q", c.op, c.name, c.code, recs[0].Seq, e.EventSource, e.EventName, e.ErrorCode)
			}
		case c.acknowledged() && c.op == "GetUser":
			if len(recs) != 0 {
				fail("%s %s was refused with 503 ServiceUnavailable but has %d records", c.op, c.name, len(recs))
			}
		case c.acknowledged():
			if len(recs) == 1 && (recs[0].Event.EventName != c.op || recs[0].Event.ErrorCode != "ServiceUnavailable") {
				fail("%s %s was refused with 503 ServiceUnavailable but record %d says %s, errorCode %q",
					c.op, c.name, recs[0].Seq, recs[0].Event.EventName, recs[0].Event.ErrorCode)
			}
		default:
			if len(recs) == 1 {
				unackedRecorded++
			}
		}
	}
	if failures > 20 {
		t.Errorf("... and %d more", failures-20)
	}
	return unackedRecorded
}

// iamCall makes one IAM call with a unique user name and returns what happened, and the
// SDK's error.
func iamCall(ctx context.Context, client *iam.Client, op, name string) (sentCall, error) {
	tr := &trace{}
	cctx := withTrace(ctx, tr)
	var err error
	switch op {
	case "CreateUser":
		_, err = client.CreateUser(cctx, &iam.CreateUserInput{UserName: aws.String(name)})
	case "GetUser":
		_, err = client.GetUser(cctx, &iam.GetUserInput{UserName: aws.String(name)})
	default:
		panic("unknown op " + op)
	}
	// An answer cut short by a crash has a status but code "?": the status line arrived, so
	// the record is durable, but the client could not read the outcome.
	return sentCall{name: name, op: op, status: int(tr.status.Load()), code: errCode(err)}, err
}

// TestCrashEveryAcknowledgedCallRecorded kills the server with SIGKILL again and again under
// concurrent load and checks, by reading the journal directly, that every call the server
// answered has exactly one record, and that nothing is recorded twice or made up.
func TestCrashEveryAcknowledgedCallRecorded(t *testing.T) {
	if testing.Short() {
		t.Skip("kills and restarts a server 20 times")
	}
	const (
		workers      = 8
		kills        = 20
		maxPerWorker = 20000 // bounds each worker's loop
		prefix       = "crash-"
	)
	seed := uint64(time.Now().UnixNano())
	t.Logf("seed %d", seed)
	rng := rand.New(rand.NewPCG(seed, 0x5eed))

	srv := testserver.Start(t)
	hc := newTraceClient()
	defer hc.close()
	cfg := srv.RootConfig()
	cfg.HTTPClient = hc
	client := iam.NewFromConfig(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()

	var (
		stop    atomic.Bool
		wg      sync.WaitGroup
		results = make([][]sentCall, workers)
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < maxPerWorker && !stop.Load(); i++ {
				op := "CreateUser"
				if i%2 == 1 {
					op = "GetUser"
				}
				c, _ := iamCall(ctx, client, op, fmt.Sprintf("%s%02d-%06d", prefix, w, i))
				results[w] = append(results[w], c)
				if !c.acknowledged() {
					time.Sleep(2 * time.Millisecond) // the server is down: do not spin
				}
			}
		}()
	}

	start := time.Now()
	for range kills {
		time.Sleep(50*time.Millisecond + time.Duration(rng.Int64N(int64(450*time.Millisecond)+1)))
		srv.Kill()
		srv.StartAgain()
	}
	time.Sleep(200 * time.Millisecond)
	stop.Store(true)
	wg.Wait()

	// The server works after all the crashes.
	final, _ := iamCall(ctx, client, "CreateUser", prefix+"final")
	if final.status != http.StatusOK || final.code != "" {
		t.Fatalf("CreateUser after %d crashes: HTTP %d, code %q", kills, final.status, final.code)
	}
	// Connections the transport dialed but never used would hold up the graceful shutdown
	// (net/http waits up to 5 s for their first request).
	hc.close()
	srv.Stop()

	var calls []sentCall
	for _, rs := range results {
		calls = append(calls, rs...)
	}
	calls = append(calls, final)
	entries := readJournal(t, filepath.Join(srv.DataDir, "journal"))
	checkUniqueIDs(t, entries)
	unackedRecorded := checkCalls(t, entries, prefix, calls)

	var nAcked, nRefused, nUnacked int
	codes := map[string]int{}
	for _, c := range calls {
		switch {
		case c.recorded():
			nAcked++
			codes[c.code]++
		case c.acknowledged():
			nRefused++
		default:
			nUnacked++
		}
	}
	if nAcked == 0 {
		t.Fatal("no call was acknowledged")
	}
	t.Logf("%d kills in %v: %d calls sent, %d answered (codes %v), %d refused with 503, %d unanswered (%d of them recorded); journal holds %d records",
		kills, time.Since(start).Round(time.Millisecond), len(calls), nAcked, codes, nRefused, nUnacked, unackedRecorded, len(entries))
}
