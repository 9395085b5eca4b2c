package e2e

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/iam"

	"github.com/opentrail/opentrail/internal/testserver"
)

// mountTmpfs mounts a tmpfs of the given size (mount's size= syntax) on dir, or skips the test
// when mounting is not permitted. The file system is unmounted when the test ends, after the
// server (started later, so cleaned up earlier) has stopped.
func mountTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if runtime.GOOS != "linux" {
		t.Skip("needs Linux tmpfs mounts")
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("mount", "-t", "tmpfs", "-o", "size="+size+",mode=0700", "tmpfs", dir).CombinedOutput()
	if err != nil {
		t.Skipf("cannot mount a small tmpfs to fill the journal's disk (needs root or CAP_SYS_ADMIN): %v: %s", err, out)
	}
	t.Cleanup(func() {
		var out []byte
		var err error
		for range 50 { // the server may take a moment to let go of its files
			if out, err = exec.Command("umount", dir).CombinedOutput(); err == nil {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
		t.Errorf("umount %s: %v: %s", dir, err, out)
		_ = exec.Command("umount", "-l", dir).Run()
	})
}

// resizeTmpfs changes the size of the tmpfs mounted on dir.
func resizeTmpfs(t *testing.T, dir, size string) {
	t.Helper()
	if out, err := exec.Command("mount", "-o", "remount,size="+size, dir).CombinedOutput(); err != nil {
		t.Fatalf("resize tmpfs %s to %s: %v: %s", dir, size, err, out)
	}
}

// checkRefusal checks that a call refused for want of journal space says so as AWS would:
// HTTP 503 on the wire, error code ServiceUnavailable, and the same status in the SDK's error.
func checkRefusal(t *testing.T, c sentCall, err error) {
	t.Helper()
	if c.status != http.StatusServiceUnavailable || c.code != "ServiceUnavailable" {
		t.Errorf("%s %s: HTTP %d, code %q; want 503 ServiceUnavailable", c.op, c.name, c.status, c.code)
		return
	}
	var re *awshttp.ResponseError
	if !errors.As(err, &re) || re.HTTPStatusCode() != http.StatusServiceUnavailable {
		t.Errorf("%s %s: SDK error %v does not carry HTTP status 503", c.op, c.name, err)
	}
}

// TestDiskFullJournal fills the journal's disk while clients call the server: calls must then
// fail with 503 ServiceUnavailable (never succeed unrecorded), the server must stay up, calls
// must succeed again once there is space, and the journal must come out intact, holding
// exactly the calls that were answered.
func TestDiskFullJournal(t *testing.T) {
	dataDir := t.TempDir()
	journalDir := filepath.Join(dataDir, "journal")
	mountTmpfs(t, journalDir, "2m")
	srv := testserver.Start(t, testserver.WithDataDir(dataDir))

	hc := newTraceClient()
	defer hc.close()
	cfg := srv.RootConfig()
	cfg.HTTPClient = hc
	client := iam.NewFromConfig(cfg)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()

	const prefix = "full-"
	// Fixed-width names: every GetUser record has the same size.
	name := func(phase string, w, i int) string { return fmt.Sprintf("%s%s-%02d-%06d", prefix, phase, w, i) }
	var calls []sentCall

	// Phase 1: concurrent calls until the journal's disk is full, and a few more after.
	const (
		workers        = 8
		maxPerWorker   = 5000 // 2 MiB holds about 2,000 records: ample
		callsAfterFull = 10
	)
	var (
		full    atomic.Bool
		wg      sync.WaitGroup
		results = make([][]sentCall, workers)
		errs    = make([][]error, workers)
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			after := 0
			for i := 0; i < maxPerWorker && after < callsAfterFull; i++ {
				if full.Load() {
					after++
				}
				c, err := iamCall(ctx, client, "GetUser", name("fill", w, i))
				results[w] = append(results[w], c)
				errs[w] = append(errs[w], err)
				if c.code == "ServiceUnavailable" {
					full.Store(true)
				}
				if !c.acknowledged() {
					return // the server is gone: reported below
				}
			}
		}()
	}
	wg.Wait()
	refused := 0
	for w := range workers {
		for i, c := range results[w] {
			switch {
			case !c.acknowledged():
				t.Fatalf("%s %s got no answer while the disk filled up: %v\nserver output:\n%s", c.op, c.name, errs[w][i], srv.Output())
			case c.code == "NoSuchEntity" && c.status == http.StatusNotFound:
			default:
				checkRefusal(t, c, errs[w][i])
				refused++
			}
		}
		calls = append(calls, results[w]...)
	}
	if refused == 0 {
		t.Fatalf("no call was refused after %d calls: the journal's 2 MiB disk never filled up", len(calls))
	}
	t.Logf("filling: %d calls, %d refused", len(calls), refused)

	// Phase 2: the disk is still full; the server stays up and answers.
	resp, err := http.Get(srv.URL + "/health")
	if err != nil {
		t.Fatalf("health check with a full disk: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("health check with a full disk: HTTP %d", resp.StatusCode)
	}
	// A mutating call made right after a refused one is refused too, without taking effect.
	refusedUser := prefix + "refused-while-full"
	refused = 0
	for i := range 20 {
		c, err := iamCall(ctx, client, "GetUser", name("stay", 0, i))
		calls = append(calls, c)
		switch {
		case !c.acknowledged():
			t.Fatalf("%s %s got no answer with a full disk: %v", c.op, c.name, err)
		case c.code == "NoSuchEntity":
			// A record may still fit in the last, partly used page of the file system.
			continue
		}
		checkRefusal(t, c, err)
		if refused++; refused == 1 {
			c, err := iamCall(ctx, client, "CreateUser", refusedUser)
			calls = append(calls, c)
			checkRefusal(t, c, err)
		}
	}
	if refused == 0 {
		t.Fatal("with the disk still full, 20 more calls all succeeded")
	}

	// Phase 3: space again. Calls succeed at once, without a restart.
	resizeTmpfs(t, journalDir, "64m")
	for i := range 50 {
		c, err := iamCall(ctx, client, "GetUser", name("free", 0, i))
		calls = append(calls, c)
		if c.status != http.StatusNotFound || c.code != "NoSuchEntity" {
			t.Fatalf("%s %s after space was freed: HTTP %d, code %q (%v); want 404 NoSuchEntity", c.op, c.name, c.status, c.code, err)
		}
	}
	created, err := iamCall(ctx, client, "CreateUser", prefix+"created-after-full")
	calls = append(calls, created)
	if created.status != http.StatusOK || err != nil {
		t.Fatalf("CreateUser after space was freed: HTTP %d: %v", created.status, err)
	}
	users, err := client.ListUsers(ctx, &iam.ListUsersInput{})
	if err != nil {
		t.Fatalf("ListUsers: %v", err)
	}
	var userNames []string
	for _, u := range users.Users {
		userNames = append(userNames, aws.ToString(u.UserName))
	}
	if !slices.Equal(userNames, []string{created.name}) {
		t.Errorf("users after the disk was full: %q; want only %q (the CreateUser refused with 503 must not have taken effect)", userNames, created.name)
	}

	// Phase 4: the journal is intact and holds exactly the answered calls.
	// Connections the transport dialed but never used would hold up the graceful shutdown
	// (net/http waits up to 5 s for their first request).
	hc.close()
	srv.Stop()
	entries := readJournal(t, journalDir)
	checkUniqueIDs(t, entries)
	if n := checkCalls(t, entries, prefix, calls); n != 0 {
		t.Errorf("test bug: %d unanswered calls", n)
	}
	recorded, named := 0, 0
	for _, c := range calls {
		if c.recorded() {
			recorded++
		}
	}
	for _, e := range entries {
		if strings.HasPrefix(e.UserName, prefix) {
			named++
		}
	}
	t.Logf("%d calls, %d answered; the journal holds %d records, %d of them naming the calls", len(calls), recorded, len(entries), named)
}
