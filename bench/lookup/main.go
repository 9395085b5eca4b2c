// Command lookup benchmarks Event History: it loads N synthetic but realistic CloudTrail
// records (many accounts, regions, users, roles, event names, sources and resources, spread
// over 90 days) into a History with IndexBatch, then measures LookupEvents latency (p50, p99)
// for every lookup attribute and for time-range-only queries, the lookup rate with concurrent
// callers, and the peak resident memory (VmHWM).
//
//	go run ./bench/lookup -events 10000000 -dir /tmp/x
//
// With -dir pointing at an existing benchmark directory and -events 0, it skips loading and
// measures the data already there (the generator is deterministic for a given -seed).
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/history"
)

func main() {
	// Pebble allocates its block cache with C malloc; glibc's default of 8 arenas per core
	// adds ~100-150 MiB of fragmentation under concurrent lookups. Measure as the server
	// should run: with MALLOC_ARENA_MAX=2 (set it to something else to override).
	if runtime.GOOS == "linux" && os.Getenv("MALLOC_ARENA_MAX") == "" {
		if exe, err := os.Executable(); err == nil {
			err = syscall.Exec(exe, os.Args, append(os.Environ(), "MALLOC_ARENA_MAX=2"))
			fmt.Fprintln(os.Stderr, "bench/lookup: re-exec with MALLOC_ARENA_MAX=2:", err)
		}
	}
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "bench/lookup:", err)
		os.Exit(1)
	}
}

type config struct {
	events      int
	dir         string
	seed        uint64
	batch       int
	queries     int
	concurrency int
	duration    time.Duration
	cacheMiB    int
	blockKiB    int
	memLimitMiB int
	compact     bool
	keep        bool
	cpuprofile  string
	memprofile  string
	only        string
	warmup      int
}

func run() error {
	var c config
	flag.IntVar(&c.events, "events", 1_000_000, "records to load (0: measure an existing -dir)")
	flag.StringVar(&c.dir, "dir", "", "History directory (default: a temporary directory, removed afterwards)")
	flag.Uint64Var(&c.seed, "seed", 1, "generator seed")
	flag.IntVar(&c.batch, "batch", 4096, "records per IndexBatch")
	flag.IntVar(&c.queries, "queries", 1000, "lookups per attribute for the latency measurement")
	flag.IntVar(&c.concurrency, "concurrency", 16, "concurrent callers for the throughput measurement")
	flag.DurationVar(&c.duration, "duration", 10*time.Second, "length of the throughput measurement")
	flag.IntVar(&c.cacheMiB, "cache", 192, "Pebble block cache in MiB")
	flag.IntVar(&c.blockKiB, "block", 16, "Pebble data block size in KiB")
	flag.IntVar(&c.memLimitMiB, "memlimit", 256, "Go heap soft limit in MiB (GOMEMLIMIT)")
	flag.BoolVar(&c.compact, "compact", false, "compact the store fully after loading (slow for large N)")
	flag.BoolVar(&c.keep, "keep", false, "keep a temporary -dir")
	flag.StringVar(&c.cpuprofile, "cpuprofile", "", "write a CPU profile of the lookup phases to this file")
	flag.StringVar(&c.memprofile, "memprofile", "", "write a heap profile at the end to this file")
	flag.IntVar(&c.warmup, "warmup", 3000, "mixed lookups run before measuring, to warm the block cache as a running server's is")
	flag.StringVar(&c.only, "only", "", "measure only this query kind (EventId, ..., time-1h, time-all, page-2); skips the throughput run")
	flag.Parse()
	debug.SetMemoryLimit(int64(c.memLimitMiB) << 20)

	if c.dir == "" {
		d, err := os.MkdirTemp("", "opentrail-bench-lookup-")
		if err != nil {
			return err
		}
		c.dir = d
		if !c.keep {
			defer os.RemoveAll(d)
		}
	}
	// The data covers the 90 days before a fixed "now" so that reruns over an existing
	// directory see the same data; History's clock is pinned to it.
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	h, err := history.Open(c.dir, history.Options{
		Now:          func() time.Time { return now },
		Logger:       log,
		CacheSize:    int64(c.cacheMiB) << 20,
		MemTableSize: 32 << 20,
		BlockSize:    c.blockKiB << 10,
		// A bulk load with nothing beside it to yield to: compactions run flat out.
		CompactionPace: -1,
	})
	if err != nil {
		return err
	}
	defer h.Close()
	ctx := context.Background()
	gen := newGenerator(c.seed, now)

	fmt.Printf("dir %s, GOMAXPROCS %d, cache %d MiB, MALLOC_ARENA_MAX=%s\n", c.dir, runtime.GOMAXPROCS(0), c.cacheMiB, os.Getenv("MALLOC_ARENA_MAX"))
	if c.events > 0 {
		if err := load(ctx, h, gen, c); err != nil {
			return err
		}
	} else {
		// Re-create the sample of attribute values without writing anything (from at most
		// a million of the records, evenly spread).
		n := int(h.Cursor())
		for i := 0; i < n; i += max(1, n/1_000_000) {
			gen.record(i, n)
		}
		fmt.Printf("existing store: %d records\n", n)
	}
	if err := h.Flush(); err != nil {
		return err
	}
	if c.compact {
		t0 := time.Now()
		if err := h.Compact(ctx); err != nil {
			return err
		}
		fmt.Printf("compacted in %s\n", time.Since(t0).Round(time.Millisecond))
	}
	fmt.Printf("store size %s, peak RSS so far %s\n", mib(dirSize(c.dir)), mib(peakRSS()))

	if c.cpuprofile != "" {
		f, err := os.Create(c.cpuprofile)
		if err != nil {
			return err
		}
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	if c.warmup > 0 {
		r := rand.New(rand.NewPCG(c.seed, 7))
		t0 := time.Now()
		for range c.warmup {
			kind := kinds[r.IntN(len(kinds))]
			acct, q := makeQuery(r, gen, kind)
			if _, err := doQuery(ctx, h, acct, q, kind); err != nil {
				return err
			}
		}
		fmt.Printf("warm-up: %d mixed lookups in %s\n", c.warmup, time.Since(t0).Round(time.Millisecond))
	}
	m0 := h.Metrics().BlockCache
	latency(ctx, h, gen, c)
	if c.only == "" {
		throughput(ctx, h, gen, c)
	}
	m1 := h.Metrics().BlockCache
	hits, misses := m1.Hits-m0.Hits, m1.Misses-m0.Misses
	fmt.Printf("block cache during lookups: %d hits, %d misses (%.1f%% hits)\n", hits, misses, 100*float64(hits)/float64(max(hits+misses, 1)))
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	fmt.Printf("Go heap in use %s (sys %s), %d GCs\n", mib(int64(ms.HeapInuse)), mib(int64(ms.HeapSys)), ms.NumGC)
	fmt.Printf("peak RSS (VmHWM) %s\n", mib(peakRSS()))
	if os.Getenv("BENCH_PEBBLE_METRICS") != "" {
		fmt.Fprintln(os.Stderr, h.Metrics().String())
		st, _ := os.ReadFile("/proc/self/status")
		fmt.Fprintln(os.Stderr, string(st))
	}
	if c.memprofile != "" {
		f, err := os.Create(c.memprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.Lookup("allocs").WriteTo(f, 0); err != nil {
			return err
		}
	}
	return nil
}

func load(ctx context.Context, h *history.History, gen *generator, c config) error {
	t0 := time.Now()
	batches := make(chan []history.Record, 2)
	go func() {
		defer close(batches)
		for lo := 0; lo < c.events; lo += c.batch {
			hi := min(lo+c.batch, c.events)
			b := make([]history.Record, 0, hi-lo)
			for i := lo; i < hi; i++ {
				b = append(b, history.Record{Seq: uint64(i + 1), Payload: gen.record(i, c.events)})
			}
			batches <- b
		}
	}()
	done, bytes := 0, 0
	last := time.Now()
	for b := range batches {
		if err := h.IndexBatch(ctx, b); err != nil {
			return err
		}
		done += len(b)
		for _, r := range b {
			bytes += len(r.Payload)
		}
		if time.Since(last) > 10*time.Second {
			last = time.Now()
			fmt.Fprintf(os.Stderr, "loaded %d/%d (%.0f/s), RSS peak %s\n", done, c.events, float64(done)/time.Since(t0).Seconds(), mib(peakRSS()))
		}
	}
	el := time.Since(t0)
	fmt.Printf("loaded %d records (%s of JSON, %d B average) in %s: %.0f records/s\n",
		done, mib(int64(bytes)), bytes/max(done, 1), el.Round(time.Millisecond), float64(done)/el.Seconds())
	return nil
}

// query kinds measured.
var kinds = []string{"EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId", "time-1h", "time-all", "page-2"}

// makeQuery draws a query of a kind from the generator's sample of real values.
func makeQuery(r *rand.Rand, gen *generator, kind string) (string, history.Query) {
	s := gen.sample(r)
	q := history.Query{Region: s.region}
	switch kind {
	case "time-1h":
		end := gen.now.Add(-time.Duration(r.Int64N(int64(89 * 24 * time.Hour))))
		q.StartTime, q.EndTime = end.Add(-time.Hour), end
	case "time-all", "page-2":
	default:
		vals := s.attrs[kind]
		q.Attributes = []history.Attribute{{Key: kind, Value: vals[r.IntN(len(vals))]}}
	}
	return s.acct, q
}

func doQuery(ctx context.Context, h *history.History, acct string, q history.Query, kind string) (int, error) {
	p, err := h.Lookup(ctx, acct, q)
	if err != nil {
		return 0, err
	}
	n := len(p.Events)
	if kind == "page-2" && p.NextToken != "" {
		q.NextToken = p.NextToken
		p, err = h.Lookup(ctx, acct, q)
		n = len(p.Events)
	}
	return n, err
}

func latency(ctx context.Context, h *history.History, gen *generator, c config) {
	fmt.Printf("\nlatency, %d lookups each, MaxResults 50, default 90-day range unless noted (one caller):\n", c.queries)
	fmt.Printf("%-14s %10s %10s %10s %10s\n", "query", "p50", "p99", "max", "avg events")
	r := rand.New(rand.NewPCG(c.seed, 99))
	for _, kind := range kinds {
		if c.only != "" && kind != c.only {
			continue
		}
		durs := make([]time.Duration, 0, c.queries)
		total := 0
		for range c.queries {
			acct, q := makeQuery(r, gen, kind)
			t0 := time.Now()
			n, err := doQuery(ctx, h, acct, q, kind)
			durs = append(durs, time.Since(t0))
			if err != nil {
				fmt.Fprintln(os.Stderr, "lookup:", err)
				return
			}
			total += n
		}
		slices.Sort(durs)
		fmt.Printf("%-14s %10s %10s %10s %10.1f\n", kind, pct(durs, 50), pct(durs, 99), durs[len(durs)-1].Round(time.Microsecond), float64(total)/float64(len(durs)))
	}
}

func throughput(ctx context.Context, h *history.History, gen *generator, c config) {
	var count atomic.Int64
	var mu sync.Mutex
	var all []time.Duration
	deadline := time.Now().Add(c.duration)
	var wg sync.WaitGroup
	for w := range c.concurrency {
		wg.Go(func() {
			r := rand.New(rand.NewPCG(c.seed, uint64(1000+w)))
			var durs []time.Duration
			for time.Now().Before(deadline) {
				kind := kinds[r.IntN(len(kinds)-1)] // every kind but page-2
				acct, q := makeQuery(r, gen, kind)
				t0 := time.Now()
				if _, err := h.Lookup(ctx, acct, q); err != nil {
					fmt.Fprintln(os.Stderr, "lookup:", err)
					return
				}
				durs = append(durs, time.Since(t0))
				count.Add(1)
			}
			mu.Lock()
			all = append(all, durs...)
			mu.Unlock()
		})
	}
	wg.Wait()
	slices.Sort(all)
	n := count.Load()
	fmt.Printf("\nthroughput: %d callers, mixed queries, %s: %d lookups, %.0f lookups/s (p50 %s, p99 %s)\n",
		c.concurrency, c.duration, n, float64(n)/c.duration.Seconds(), pct(all, 50), pct(all, 99))
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	i := min(len(d)-1, len(d)*p/100)
	return d[i].Round(time.Microsecond)
}

// generator makes deterministic, realistic records. record(i, n) is the i-th of n records,
// in time order over the 90 days before now, and feeds a reservoir sample of the attribute
// values the records carry, from which queries are drawn (so that popular values are asked
// for more often, as in real use).
type generator struct {
	now  time.Time
	seed uint64

	mu      sync.Mutex
	samples []sample
	seen    int
}

type sample struct {
	acct, region string
	attrs        map[string][]string
}

const sampleSize = 20000

func newGenerator(seed uint64, now time.Time) *generator {
	return &generator{now: now, seed: seed}
}

func (g *generator) sample(r *rand.Rand) sample {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.samples[r.IntN(len(g.samples))]
}

var (
	regions     = []string{"us-east-1", "us-east-1", "us-east-1", "eu-west-1", "eu-west-1", "ap-southeast-2"}
	userAgents  = []string{"aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0 exe/x86_64.ubuntu.22 prompt/off command/s3.ls", "aws-sdk-go-v2/1.30.3 os/linux lang/go#1.22.5 md/GOOS#linux md/GOARCH#amd64 api/ec2#1.170.0", "Boto3/1.34.100 md/Botocore#1.34.100 ua/2.0 os/linux#6.1 md/arch#x86_64 lang/python#3.12.3 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.100", "console.amazonaws.com", "Terraform/1.8.3 (+https://www.terraform.io) terraform-provider-aws/5.49.0 (+https://registry.terraform.io/providers/hashicorp/aws) aws-sdk-go-v2/1.26.1"}
	sources     = []string{"ec2", "iam", "sts", "s3", "cloudtrail", "kms", "lambda", "logs", "monitoring", "sns", "dynamodb", "rds"}
	sourceNames = map[string][]string{
		"ec2":        {"DescribeInstances", "RunInstances", "TerminateInstances", "DescribeSecurityGroups", "AuthorizeSecurityGroupIngress", "CreateTags", "DescribeVolumes", "StopInstances", "StartInstances"},
		"iam":        {"ListUsers", "GetUser", "CreateUser", "DeleteUser", "AttachRolePolicy", "CreateAccessKey", "ListRoles", "GetRole", "PutRolePolicy"},
		"sts":        {"AssumeRole", "GetCallerIdentity", "GetSessionToken"},
		"s3":         {"CreateBucket", "DeleteBucket", "PutBucketPolicy", "GetBucketAcl", "ListBuckets", "PutBucketEncryption"},
		"cloudtrail": {"DescribeTrails", "LookupEvents", "CreateTrail", "StartLogging", "StopLogging", "GetTrailStatus"},
		"kms":        {"Decrypt", "Encrypt", "GenerateDataKey", "DescribeKey", "CreateKey"},
		"lambda":     {"Invoke", "ListFunctions20150331", "UpdateFunctionCode20150331v2", "GetFunction20150331v2"},
		"logs":       {"CreateLogStream", "DescribeLogGroups", "PutRetentionPolicy", "CreateLogGroup"},
		"monitoring": {"PutMetricAlarm", "DescribeAlarms", "GetMetricData"},
		"sns":        {"Publish", "CreateTopic", "Subscribe", "ListTopics"},
		"dynamodb":   {"CreateTable", "DescribeTable", "UpdateTable", "ListTables"},
		"rds":        {"DescribeDBInstances", "CreateDBInstance", "ModifyDBInstance"},
	}
	roles = []string{"Admin", "ReadOnly", "Deployer", "OrganizationAccountAccessRole", "lambda-exec", "ecs-task", "ci-runner", "SecurityAudit"}
)

func (g *generator) record(i, n int) []byte {
	r := rand.New(rand.NewPCG(g.seed, uint64(i)))
	// Accounts: 50, the first few much busier (rank-weighted).
	acctN := int(float64(50) * r.Float64() * r.Float64())
	acct := fmt.Sprintf("%012d", 100000000000+acctN*7919)
	region := regions[r.IntN(len(regions))]
	span := 90*24*time.Hour - time.Minute
	tm := g.now.Add(-span + time.Duration(float64(span)*float64(i)/float64(max(n, 1)))).Add(time.Duration(r.IntN(2000)) * time.Millisecond)
	src := sources[int(float64(len(sources))*r.Float64()*r.Float64())]
	names := sourceNames[src]
	name := names[int(float64(len(names))*r.Float64()*r.Float64())]
	readOnly := strings.HasPrefix(name, "Describe") || strings.HasPrefix(name, "Get") || strings.HasPrefix(name, "List") || strings.HasPrefix(name, "Lookup")

	e := opentrail.Event{
		EventVersion: "1.11", EventTime: tm.UTC().Format(opentrail.TimeFormat), EventSource: src + ".amazonaws.com", EventName: name,
		AWSRegion: region, SourceIPAddress: fmt.Sprintf("198.51.%d.%d", r.IntN(256), r.IntN(256)), UserAgent: userAgents[r.IntN(len(userAgents))],
		RequestID: uuid(r), EventID: uuid(r), ReadOnly: readOnly, EventType: "AwsApiCall", ManagementEvent: true,
		RecipientAccountID: acct, EventCategory: "Management", RequestParameters: json.RawMessage("null"), ResponseElements: json.RawMessage("null"),
		TLSDetails: &opentrail.TLSDetails{TLSVersion: "TLSv1.3", CipherSuite: "TLS_AES_128_GCM_SHA256", ClientProvidedHostHeader: src + "." + region + ".amazonaws.com"},
	}
	var user string
	switch k := r.IntN(100); {
	case k < 45:
		u := fmt.Sprintf("user-%03d", int(300*r.Float64()*r.Float64()))
		user = u
		e.UserIdentity = &opentrail.UserIdentity{Type: "IAMUser", PrincipalID: "AIDA" + strings.ToUpper(u), ARN: "arn:aws:iam::" + acct + ":user/" + u,
			AccountID: acct, AccessKeyID: "AKIA" + u[5:] + acct[4:], UserName: u}
	case k < 97:
		role := roles[r.IntN(len(roles))]
		sess := fmt.Sprintf("%s-session-%d", strings.ToLower(role), r.IntN(40))
		user = sess
		e.UserIdentity = &opentrail.UserIdentity{Type: "AssumedRole", PrincipalID: "AROA" + strings.ToUpper(role) + ":" + sess,
			ARN: "arn:aws:sts::" + acct + ":assumed-role/" + role + "/" + sess, AccountID: acct, AccessKeyID: fmt.Sprintf("ASIA%016X", r.Uint64()),
			SessionContext: &opentrail.SessionContext{SessionIssuer: opentrail.SessionIssuer{Type: "Role", PrincipalID: "AROA" + strings.ToUpper(role),
				ARN: "arn:aws:iam::" + acct + ":role/" + role, AccountID: acct, UserName: role}, WebIDFederationData: map[string]string{},
				Attributes: opentrail.SessionAttributes{CreationDate: tm.Add(-time.Duration(r.IntN(3600)) * time.Second).UTC().Format(opentrail.TimeFormat), MFAAuthenticated: "false"}}}
	default:
		user = "root"
		e.UserIdentity = &opentrail.UserIdentity{Type: "Root", PrincipalID: acct, ARN: "arn:aws:iam::" + acct + ":root", AccountID: acct, AccessKeyID: "AKIAROOT" + acct}
	}
	// Resources and request parameters.
	var resType, resName string
	switch src {
	case "ec2":
		id := fmt.Sprintf("i-%017x", r.IntN(5000))
		resType, resName = "AWS::EC2::Instance", id
		e.RequestParameters = json.RawMessage(fmt.Sprintf(`{"instancesSet":{"items":[{"instanceId":%q}]},"filterSet":{}}`, id))
	case "iam":
		u := fmt.Sprintf("user-%03d", r.IntN(300))
		e.RequestParameters = json.RawMessage(fmt.Sprintf(`{"userName":%q}`, u))
		resType, resName = "AWS::IAM::User", u
	case "s3":
		b := fmt.Sprintf("bucket-%s-%d", acct[8:], r.IntN(200))
		e.RequestParameters = json.RawMessage(fmt.Sprintf(`{"bucketName":%q,"Host":"%s.s3.amazonaws.com"}`, b, b))
		resType, resName = "AWS::S3::Bucket", b
	case "kms":
		k := fmt.Sprintf("arn:aws:kms:%s:%s:key/%08x-1111-2222-3333-444455556666", region, acct, r.IntN(50))
		e.RequestParameters = json.RawMessage(`{"encryptionAlgorithm":"SYMMETRIC_DEFAULT"}`)
		e.Resources = []opentrail.Resource{{ARN: k, AccountID: acct, Type: "AWS::KMS::Key"}}
		resType, resName = "AWS::KMS::Key", k
	case "cloudtrail":
		t := fmt.Sprintf("trail-%d", r.IntN(5))
		e.RequestParameters = json.RawMessage(fmt.Sprintf(`{"name":%q}`, t))
		resType, resName = "AWS::CloudTrail::Trail", t
	case "lambda":
		f := fmt.Sprintf("function-%d", r.IntN(300))
		e.RequestParameters = json.RawMessage(fmt.Sprintf(`{"functionName":%q}`, f))
		resType, resName = "AWS::Lambda::Function", f
	case "sts":
		if name == "AssumeRole" {
			role := roles[r.IntN(len(roles))]
			e.RequestParameters = json.RawMessage(fmt.Sprintf(`{"roleArn":"arn:aws:iam::%s:role/%s","roleSessionName":"s","durationSeconds":3600}`, acct, role))
			e.ResponseElements = json.RawMessage(fmt.Sprintf(`{"credentials":{"accessKeyId":"ASIA%016X","expiration":"Jun 1, 2026, 1:00:00 AM","sessionToken":"HIDDEN_DUE_TO_SECURITY_REASONS"}}`, r.Uint64()))
			resType, resName = "AWS::IAM::Role", role
		}
	}
	if !readOnly && string(e.ResponseElements) == "null" {
		e.ResponseElements = json.RawMessage(fmt.Sprintf(`{"requestId":%q}`, uuid(r)))
	}
	if r.IntN(20) == 0 {
		e.ErrorCode, e.ErrorMessage = "AccessDenied", "User is not authorized to perform this operation"
		e.ResponseElements = json.RawMessage("null")
	}
	b, _ := json.Marshal(e)

	// Reservoir sample of the values this record can be found by.
	g.mu.Lock()
	defer g.mu.Unlock()
	g.seen++
	slot := -1
	if len(g.samples) < sampleSize {
		slot = len(g.samples)
		g.samples = append(g.samples, sample{})
	} else if j := r.IntN(g.seen); j < sampleSize {
		slot = j
	}
	if slot >= 0 {
		attrs := map[string][]string{
			"EventId": {e.EventID}, "EventName": {name}, "ReadOnly": {fmt.Sprint(readOnly)}, "Username": {user},
			"EventSource": {e.EventSource}, "AccessKeyId": {e.UserIdentity.AccessKeyID},
			"ResourceType": {"AWS::IAM::User"}, "ResourceName": {"user-000"},
		}
		if resType != "" {
			attrs["ResourceType"], attrs["ResourceName"] = []string{resType}, []string{resName}
		}
		g.samples[slot] = sample{acct: acct, region: region, attrs: attrs}
	}
	return b
}

func uuid(r *rand.Rand) string {
	a, b := r.Uint64(), r.Uint64()
	return fmt.Sprintf("%08x-%04x-4%03x-a%03x-%012x", a>>32, a>>16&0xffff, a&0xfff, b>>48&0xfff, b&0xffffffffffff)
}

func dirSize(dir string) int64 {
	var n int64
	_ = filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			if info, err := d.Info(); err == nil {
				n += info.Size()
			}
		}
		return nil
	})
	return n
}

// peakRSS reads VmHWM from /proc/self/status (0 where there is none).
func peakRSS() int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			var kb int64
			fmt.Sscanf(strings.TrimSpace(rest), "%d", &kb)
			return kb << 10
		}
	}
	return 0
}

func mib(b int64) string { return fmt.Sprintf("%.1f MiB", float64(b)/(1<<20)) }
