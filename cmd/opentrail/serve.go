package main

import (
	"context"
	"crypto/rand"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/pprof"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/blob"
	"github.com/opentrail/opentrail/internal/cloudtrail"
	"github.com/opentrail/opentrail/internal/delivery"
	"github.com/opentrail/opentrail/internal/digest"
	"github.com/opentrail/opentrail/internal/history"
	"github.com/opentrail/opentrail/internal/iam"
	"github.com/opentrail/opentrail/internal/journal"
	"github.com/opentrail/opentrail/internal/kv"
	"github.com/opentrail/opentrail/internal/logforward"
	"github.com/opentrail/opentrail/internal/logs"
	"github.com/opentrail/opentrail/internal/monitoring"
	"github.com/opentrail/opentrail/internal/secret"
	"github.com/opentrail/opentrail/internal/server"
	"github.com/opentrail/opentrail/internal/sns"
)

// defaultRegions is the standard commercial AWS region list.
const defaultRegions = "us-east-1,us-east-2,us-west-1,us-west-2,af-south-1,ap-east-1,ap-east-2,ap-south-1,ap-south-2," +
	"ap-southeast-1,ap-southeast-2,ap-southeast-3,ap-southeast-4,ap-southeast-5,ap-southeast-7," +
	"ap-northeast-1,ap-northeast-2,ap-northeast-3,ca-central-1,ca-west-1,eu-central-1,eu-central-2," +
	"eu-west-1,eu-west-2,eu-west-3,eu-south-1,eu-south-2,eu-north-1,il-central-1,me-south-1,me-central-1," +
	"mx-central-1,sa-east-1"

type serveConfig struct {
	dataDir        string
	listen         string
	accountID      string
	rootKeyID      string
	rootSecret     string
	regions        []string
	trustedProxies []netip.Prefix
	logLevel       string
	tlsCert        string
	tlsKey         string
	publicURL      string // base URL of this server for SNS messages' links (--public-url)
	smtpRelay      string // SNS email deliveries (--smtp-relay, --smtp-from)
	smtpFrom       string

	deliveryInterval time.Duration
	digestInterval   time.Duration
	maxLogFileBytes  int
	sse              string

	// s3 is where every trail's bucket lives when s3.Endpoint is set (--s3-endpoint); else
	// buckets are directories of <data-dir>/buckets. The secret is never logged or printed.
	s3 blob.S3Options

	gw gatewayFlags // the S3 audit gateway (gateway.go)
}

func parseServe(args []string, stderr io.Writer) (*serveConfig, error) {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	c := &serveConfig{}
	fs.StringVar(&c.dataDir, "data-dir", envDefault("OPENTRAIL_DATA_DIR", "./data"), "data directory (env OPENTRAIL_DATA_DIR)")
	fs.StringVar(&c.listen, "listen", envDefault("OPENTRAIL_LISTEN", "127.0.0.1:8470"), "address to listen on (env OPENTRAIL_LISTEN)")
	fs.StringVar(&c.accountID, "account-id", envDefault("OPENTRAIL_ACCOUNT_ID", ""), "12-digit ID of the first account, used only when the data dir is new; default random (env OPENTRAIL_ACCOUNT_ID)")
	fs.StringVar(&c.rootKeyID, "root-access-key-id", envDefault("OPENTRAIL_ROOT_ACCESS_KEY_ID", ""), "first account's root access key ID when the data dir is new; default generated (env OPENTRAIL_ROOT_ACCESS_KEY_ID)")
	fs.StringVar(&c.rootSecret, "root-secret-access-key", envDefault("OPENTRAIL_ROOT_SECRET_ACCESS_KEY", ""), "first account's root secret access key when the data dir is new (env OPENTRAIL_ROOT_SECRET_ACCESS_KEY)")
	regions := fs.String("regions", envDefault("OPENTRAIL_REGIONS", defaultRegions), "comma-separated regions served (env OPENTRAIL_REGIONS)")
	proxies := fs.String("trusted-proxies", envDefault("OPENTRAIL_TRUSTED_PROXIES", ""), "comma-separated CIDRs whose X-Forwarded-For is believed (env OPENTRAIL_TRUSTED_PROXIES)")
	fs.StringVar(&c.tlsCert, "tls-cert", envDefault("OPENTRAIL_TLS_CERT", ""), "PEM certificate file: serve HTTPS instead of HTTP (env OPENTRAIL_TLS_CERT)")
	fs.StringVar(&c.tlsKey, "tls-key", envDefault("OPENTRAIL_TLS_KEY", ""), "PEM private key file for --tls-cert (env OPENTRAIL_TLS_KEY)")
	fs.StringVar(&c.publicURL, "public-url", envDefault("OPENTRAIL_PUBLIC_URL", ""), "base URL at which SNS subscribers reach this server (signing certificate, confirm and unsubscribe links); default from --listen, https with --tls-cert (env OPENTRAIL_PUBLIC_URL)")
	fs.StringVar(&c.smtpRelay, "smtp-relay", envDefault("OPENTRAIL_SMTP_RELAY", ""), "host:port of an SMTP relay for SNS email and email-json subscriptions; without it they are refused (env OPENTRAIL_SMTP_RELAY)")
	fs.StringVar(&c.smtpFrom, "smtp-from", envDefault("OPENTRAIL_SMTP_FROM", ""), "From address of SNS email deliveries; required with --smtp-relay (env OPENTRAIL_SMTP_FROM)")
	deliveryInterval := fs.String("delivery-interval", envDefault("OPENTRAIL_DELIVERY_INTERVAL", delivery.DefaultInterval.String()), "how long records wait before log files are written, 1s or more (env OPENTRAIL_DELIVERY_INTERVAL)")
	digestInterval := fs.String("digest-interval", envDefault("OPENTRAIL_DIGEST_INTERVAL", delivery.DefaultDigestInterval.String()), "digest file interval of validating trails, 1s or more (env OPENTRAIL_DIGEST_INTERVAL)")
	fs.IntVar(&c.maxLogFileBytes, "max-log-file-bytes", delivery.DefaultMaxFileBytes, "size cap of one log file, uncompressed bytes")
	fs.StringVar(&c.sse, "s3-sse", envDefault("OPENTRAIL_S3_SSE", ""), "x-amz-server-side-encryption sent with delivered objects, e.g. AES256 (env OPENTRAIL_S3_SSE)")
	fs.StringVar(&c.s3.Endpoint, "s3-endpoint", envDefault("OPENTRAIL_S3_ENDPOINT", ""), "base URL of an S3-compatible endpoint that holds every trail's bucket (path-style); default: directories of <data-dir>/buckets (env OPENTRAIL_S3_ENDPOINT)")
	fs.StringVar(&c.s3.AccessKeyID, "s3-access-key-id", envDefault("OPENTRAIL_S3_ACCESS_KEY_ID", ""), "access key ID for --s3-endpoint (env OPENTRAIL_S3_ACCESS_KEY_ID)")
	// No env default shown here: flag usage output prints defaults, and this one is a secret.
	fs.StringVar(&c.s3.SecretAccessKey, "s3-secret-access-key", "", "secret access key for --s3-endpoint; prefer the env OPENTRAIL_S3_SECRET_ACCESS_KEY")
	fs.StringVar(&c.s3.Region, "s3-region", envDefault("OPENTRAIL_S3_REGION", blob.DefaultS3Region), "signing region of --s3-endpoint (env OPENTRAIL_S3_REGION)")
	fs.StringVar(&c.logLevel, "log-level", envDefault("OPENTRAIL_LOG_LEVEL", "info"), "debug, info, warn or error (env OPENTRAIL_LOG_LEVEL)")
	c.gw.register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if err := c.gw.check(); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	var err error
	if c.deliveryInterval, err = time.ParseDuration(*deliveryInterval); err != nil {
		return nil, fmt.Errorf("--delivery-interval: %w", err)
	}
	if c.digestInterval, err = time.ParseDuration(*digestInterval); err != nil {
		return nil, fmt.Errorf("--digest-interval: %w", err)
	}
	if c.deliveryInterval < time.Second {
		return nil, fmt.Errorf("--delivery-interval must be at least 1s, got %s", c.deliveryInterval)
	}
	if c.digestInterval < time.Second {
		return nil, fmt.Errorf("--digest-interval must be at least 1s, got %s", c.digestInterval)
	}
	if c.maxLogFileBytes < 1<<10 {
		return nil, errors.New("--max-log-file-bytes must be at least 1024")
	}
	if (c.tlsCert == "") != (c.tlsKey == "") {
		return nil, errors.New("--tls-cert and --tls-key must be given together")
	}
	pub, err := publicURL(c.publicURL, c.listen, c.tlsCert != "")
	if err != nil {
		return nil, err
	}
	c.publicURL = pub
	if (c.smtpRelay == "") != (c.smtpFrom == "") {
		return nil, errors.New("--smtp-relay and --smtp-from must be given together")
	}
	if _, _, err := net.SplitHostPort(c.smtpRelay); c.smtpRelay != "" && err != nil {
		return nil, fmt.Errorf("--smtp-relay must be host:port: %w", err)
	}
	if c.s3.SecretAccessKey == "" {
		c.s3.SecretAccessKey = os.Getenv("OPENTRAIL_S3_SECRET_ACCESS_KEY")
	}
	if c.s3.Endpoint == "" && (c.s3.AccessKeyID != "" || c.s3.SecretAccessKey != "") {
		return nil, errors.New("--s3-access-key-id and --s3-secret-access-key need --s3-endpoint")
	}
	if c.s3.Endpoint != "" {
		if c.s3.AccessKeyID == "" || c.s3.SecretAccessKey == "" {
			return nil, errors.New("--s3-endpoint needs --s3-access-key-id and --s3-secret-access-key (or OPENTRAIL_S3_SECRET_ACCESS_KEY)")
		}
		if _, err := blob.NewS3(c.s3); err != nil { // checks the URL
			return nil, fmt.Errorf("--s3-endpoint: %w", err)
		}
	}
	if c.accountID != "" && !accountIDPattern.MatchString(c.accountID) {
		return nil, fmt.Errorf("--account-id must be 12 digits, got %q", c.accountID)
	}
	if (c.rootKeyID == "") != (c.rootSecret == "") {
		return nil, errors.New("--root-access-key-id and --root-secret-access-key must be given together")
	}
	if c.rootKeyID != "" && (len(c.rootKeyID) < 16 || len(c.rootKeyID) > 128 || len(c.rootSecret) < 16) {
		return nil, errors.New("--root-access-key-id must be 16-128 characters and --root-secret-access-key at least 16")
	}
	for _, r := range strings.Split(*regions, ",") {
		if r = strings.TrimSpace(r); r != "" {
			c.regions = append(c.regions, r)
		}
	}
	if len(c.regions) == 0 {
		return nil, errors.New("--regions must name at least one region")
	}
	for _, p := range strings.Split(*proxies, ",") {
		if p = strings.TrimSpace(p); p == "" {
			continue
		}
		pfx, err := netip.ParsePrefix(p)
		if err != nil {
			return nil, fmt.Errorf("--trusted-proxies: %w", err)
		}
		c.trustedProxies = append(c.trustedProxies, pfx)
	}
	return c, nil
}

var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// publicURL checks --public-url, or derives it from --listen: the listen address, with
// 127.0.0.1 (or [::1]) for an unspecified host, over https when TLS is on.
func publicURL(flagValue, listen string, tls bool) (string, error) {
	if flagValue != "" {
		u, err := url.Parse(flagValue)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
			return "", fmt.Errorf("--public-url must be an http or https URL, got %q", flagValue)
		}
		return strings.TrimRight(flagValue, "/"), nil
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("--listen: %w", err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::":
		host = "::1"
	}
	scheme := "http"
	if tls {
		scheme = "https"
	}
	return scheme + "://" + net.JoinHostPort(host, port), nil
}

func newLogger(w io.Writer, level string) (*slog.Logger, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		return nil, fmt.Errorf("--log-level: %w", err)
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: l})), nil
}

func runServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parseServe(args, stderr)
	if err != nil {
		return err
	}
	log, err := newLogger(stderr, cfg.logLevel)
	if err != nil {
		return err
	}
	app, err := openApp(ctx, cfg, log, stdout)
	if err != nil {
		return err
	}
	defer app.close()

	ln, err := net.Listen("tcp", cfg.listen)
	if err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	srv := &http.Server{
		Handler:           app.handler,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	errc := make(chan error, 1)
	if cfg.tlsCert != "" {
		go func() { errc <- srv.ServeTLS(ln, cfg.tlsCert, cfg.tlsKey) }()
	} else {
		go func() { errc <- srv.Serve(ln) }()
	}
	if addr := os.Getenv("OPENTRAIL_PPROF_LISTEN"); addr != "" {
		// Profiling endpoints on a separate listener, only when asked for (debugging aid).
		mux := http.NewServeMux()
		mux.HandleFunc("/debug/pprof/", pprof.Index)
		mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
		go func() { log.Warn("pprof listener stopped", "err", http.ListenAndServe(addr, mux)) }()
	}
	log.Info("opentrail serving", "addr", ln.Addr().String(), "data_dir", cfg.dataDir, "version", version)

	select {
	case err := <-errc:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	shutCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutCtx); err != nil {
		log.Warn("shutdown", "err", err)
	}
	return nil
}

// app is everything serve runs, wired together.
type app struct {
	handler http.Handler
	closers []func() error
	log     *slog.Logger
	stop    context.CancelFunc // stops the journal consumers
	wg      sync.WaitGroup
}

// startConsumers runs the journal consumers (Event History ingest and retention, trail
// delivery, forwarding to CloudWatch Logs) until close. Each resumes from its own durable cursor.
func (a *app) startConsumers(ctx context.Context, jr *journal.Journal, hist *history.History, dl *delivery.Deliverer, fwd *logforward.Forwarder) {
	ctx, a.stop = context.WithCancel(context.WithoutCancel(ctx))
	run := func(name string, fn func(context.Context) error) {
		a.wg.Add(1)
		go func() {
			defer a.wg.Done()
			if err := fn(ctx); err != nil && ctx.Err() == nil {
				a.log.Error("journal consumer stopped", "consumer", name, "err", err)
			}
		}()
	}
	run("history", func(ctx context.Context) error {
		// A rebuilt index starts at cursor 0; retention may have deleted the journal's
		// oldest segments (older than Event History keeps): start at the oldest kept.
		r := jr.NewReader(max(hist.Cursor()+1, jr.FirstSeq()))
		defer r.Close()
		return hist.Follow(ctx, journalSource{r})
	})
	run("history-retention", hist.Run)
	run("delivery", func(ctx context.Context) error {
		r := jr.NewReader(dl.Cursor() + 1)
		defer r.Close()
		return dl.Run(ctx, journalSource{r})
	})
	run("logforward", func(ctx context.Context) error {
		r := jr.NewReader(fwd.Cursor() + 1)
		defer r.Close()
		return fwd.Run(ctx, journalSource{r})
	})
}

// journalSource adapts a journal reader to the consumers' Source interface.
type journalSource struct{ r *journal.Reader }

func (s journalSource) Next(ctx context.Context) (uint64, []byte, error) {
	rec, err := s.r.Next(ctx)
	return rec.Seq, rec.Payload, err
}

func (a *app) close() {
	if a.stop != nil {
		a.stop()
		a.wg.Wait()
		a.stop = nil
	}
	for i := len(a.closers) - 1; i >= 0; i-- {
		if err := a.closers[i](); err != nil {
			a.log.Warn("close", "err", err)
		}
	}
}

func openApp(ctx context.Context, cfg *serveConfig, log *slog.Logger, stdout io.Writer) (_ *app, err error) {
	a := &app{log: log}
	defer func() {
		if err != nil {
			a.close()
		}
	}()
	if err := os.MkdirAll(cfg.dataDir, 0o700); err != nil {
		return nil, fmt.Errorf("create data dir: %w", err)
	}
	store, err := kv.Open(filepath.Join(cfg.dataDir, "meta"), log)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, store.Close)
	box, err := secret.OpenKeyFile(filepath.Join(cfg.dataDir, "master.key"))
	if err != nil {
		return nil, err
	}
	now := time.Now
	ids, err := iam.Open(iam.Options{Store: store, Box: box, Now: now, Logger: log})
	if err != nil {
		return nil, err
	}
	if len(ids.Accounts()) == 0 {
		if err := bootstrap(cfg, ids, stdout); err != nil {
			return nil, err
		}
	}

	jr, err := journal.Open(filepath.Join(cfg.dataDir, "journal"), journal.Options{Logger: log, Preallocate: true})
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, jr.Close)

	hist, err := history.Open(filepath.Join(cfg.dataDir, "history"), history.Options{Now: now, Logger: log})
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, hist.Close)

	// SNS topics; CloudTrail notifications and alarms publish to them (topics.PublishInternal).
	snsOpts := sns.Options{Store: store, Box: box, PublicURL: cfg.publicURL, Now: now, Logger: log}
	if cfg.smtpRelay != "" {
		snsOpts.SMTP = &sns.SMTPConfig{Relay: cfg.smtpRelay, From: cfg.smtpFrom}
	}
	topics, err := sns.New(snsOpts)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, topics.Close)

	// CloudWatch metrics and alarms; alarm actions publish to SNS topics. The evaluator runs
	// until the app closes (its closer runs before metrics.Close and topics.Close).
	metrics, err := monitoring.New(monitoring.Options{Store: store, Dir: filepath.Join(cfg.dataDir, "metrics"), Publisher: topics, Now: now, Logger: log})
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, metrics.Close)
	evalCtx, stopEval := context.WithCancel(context.WithoutCancel(ctx))
	evalDone := make(chan struct{})
	go func() {
		defer close(evalDone)
		if err := metrics.Run(evalCtx); err != nil {
			log.Error("alarm evaluator stopped", "err", err)
		}
	}()
	a.closers = append(a.closers, func() error { stopEval(); <-evalDone; return nil })

	// CloudWatch Logs: groups, streams, events and metric filters in <data-dir>/logs. The
	// retention sweep runs until the app closes (its closer runs before logsSvc.Close).
	logsSvc, err := logs.Open(filepath.Join(cfg.dataDir, "logs"), logs.Options{Metrics: metricSink{metrics}, Now: now, Logger: log})
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, logsSvc.Close)
	logsCtx, stopLogs := context.WithCancel(context.WithoutCancel(ctx))
	logsDone := make(chan struct{})
	go func() {
		defer close(logsDone)
		_ = logsSvc.Run(logsCtx) // returns when the app closes; failures are logged by Run
	}()
	a.closers = append(a.closers, func() error { stopLogs(); <-logsDone; return nil })

	var buckets blob.Store = blob.NewDir(filepath.Join(cfg.dataDir, "buckets"))
	if cfg.s3.Endpoint != "" {
		if buckets, err = blob.NewS3(cfg.s3); err != nil {
			return nil, err
		}
		log.Info("buckets on S3 endpoint", "endpoint", cfg.s3.Endpoint, "region", cfg.s3.Region)
	}
	trails, err := cloudtrail.New(cloudtrail.Options{Store: store, Buckets: buckets, Topics: topics, LogGroups: logsSvc, Roles: ids, JournalPosition: jr.LastSeq, Now: now, Logger: log})
	if err != nil {
		return nil, err
	}
	keys, err := digest.OpenKeyRing(digest.KeyRingOptions{Store: store, Box: box, Now: now, Logger: log})
	if err != nil {
		return nil, err
	}
	dl, err := delivery.New(delivery.Options{
		Store: store, Buckets: buckets, Trails: trails, Keys: keys, Notifier: topics,
		Interval: cfg.deliveryInterval, DigestInterval: cfg.digestInterval, MaxFileBytes: cfg.maxLogFileBytes,
		Regions: cfg.regions, ServerSideEncryption: cfg.sse, Now: now, Logger: log,
	})
	if err != nil {
		return nil, err
	}
	fwd, err := logforward.New(logforward.Options{Store: store, Trails: trails, Sink: logSink{logsSvc}, Now: now, Logger: log})
	if err != nil {
		return nil, err
	}
	a.startConsumers(ctx, jr, hist, dl, fwd)
	eventsSvc, err := a.startEvents(ctx, store, box, topics, logsSvc, jr, now, log)
	if err != nil {
		return nil, err
	}
	a.startJournalRetention(ctx, jr, store, hist, now, log, dl, fwd, eventsSvc)

	rec := newJournalRecorder(jr) // shared with the S3 gateway
	srv := server.New(server.Config{
		Regions:        cfg.regions,
		Authenticator:  ids,
		Authorizer:     ids,
		Recorder:       rec,
		Logger:         log,
		Now:            now,
		TrustedProxies: cfg.trustedProxies,
		Extra: map[string]http.Handler{
			"/health": http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
				w.Header().Set("Content-Type", "text/plain")
				_, _ = io.WriteString(w, "ok\n")
			}),
			sns.ConfirmPath:     topics.Handler(),
			sns.UnsubscribePath: topics.Handler(),
			topics.CertPath():   topics.Handler(),
		},
	})
	srv.Register(ids.Services()...)
	srv.Register(topics.Service())
	srv.Register(metrics.Services()...)
	srv.Register(logsSvc.Service())
	srv.Register(eventsSvc.Service())
	srv.Register(trails.Services(append(hist.Operations(), keys.Operations()...)...)...)
	a.handler = srv
	if err := a.startGateway(cfg, ids, rec, log); err != nil {
		return nil, err
	}
	return a, nil
}

// bootstrap creates the first account of a new data dir and, when its root credentials were
// generated, writes them to <data-dir>/root-credentials (mode 0600) and says where, once.
func bootstrap(cfg *serveConfig, ids *iam.IAM, stdout io.Writer) error {
	acct := cfg.accountID
	if acct == "" {
		acct = randomDigits(12)
	}
	keyID, secretKey := cfg.rootKeyID, cfg.rootSecret
	generated := keyID == ""
	if generated {
		keyID = "AKIA" + randomString(16, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567")
		secretKey = randomString(40, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
	}
	if err := ids.EnsureAccount(acct, keyID, secretKey); err != nil {
		return fmt.Errorf("create first account: %w", err)
	}
	if !generated {
		return nil
	}
	path := filepath.Join(cfg.dataDir, "root-credentials")
	body := fmt.Sprintf("[default]\naws_access_key_id = %s\naws_secret_access_key = %s\n# account %s\n", keyID, secretKey, acct)
	if err := os.WriteFile(path, []byte(body), 0o600); err != nil {
		return fmt.Errorf("write root credentials: %w", err)
	}
	fmt.Fprintf(stdout, "Created account %s. Its root credentials are in %s (AWS shared-credentials format; use AWS_SHARED_CREDENTIALS_FILE=%s).\n", acct, path, path)
	return nil
}

func randomDigits(n int) string {
	s := randomString(n, "0123456789")
	if s[0] == '0' {
		s = "1" + s[1:]
	}
	return s
}

func randomString(n int, alphabet string) string {
	b := make([]byte, n)
	max := big.NewInt(int64(len(alphabet)))
	for i := range b {
		x, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err)
		}
		b[i] = alphabet[x.Int64()]
	}
	return string(b)
}

// journalRecorder makes records durable in the journal before responses are written. It
// remembers whether the last append failed, so that the server refuses state changes while
// the journal cannot record them.
type journalRecorder struct {
	j      *journal.Journal
	failed *atomic.Bool
}

func newJournalRecorder(j *journal.Journal) journalRecorder {
	return journalRecorder{j: j, failed: new(atomic.Bool)}
}

func (r journalRecorder) Record(ctx context.Context, e *opentrail.Event) error {
	b, err := server.MarshalEvent(e) // json.Marshal's bytes, without reflection
	if err != nil {
		return fmt.Errorf("encode record: %w", err)
	}
	if _, err := r.j.Append(ctx, b); err != nil {
		r.failed.Store(true)
		return err
	}
	r.failed.Store(false)
	return nil
}

// Healthy reports whether the last append succeeded.
func (r journalRecorder) Healthy() bool { return !r.failed.Load() }
