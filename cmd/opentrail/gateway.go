package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/opentrail/opentrail/internal/gateway"
	"github.com/opentrail/opentrail/internal/iam"
)

// gatewayFlags configure the S3 audit gateway of `opentrail serve` (docs/gateway.md).
type gatewayFlags struct {
	listen     string
	backend    string
	mode       string
	keyID      string
	secret     string // never logged or printed
	failClosed bool
	domains    string
	accountID  string
}

func (g *gatewayFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&g.listen, "gateway-listen", envDefault("OPENTRAIL_GATEWAY_LISTEN", ""), "address of the S3 audit gateway; off when empty (env OPENTRAIL_GATEWAY_LISTEN)")
	fs.StringVar(&g.backend, "gateway-backend", envDefault("OPENTRAIL_GATEWAY_BACKEND", ""), "http(s)://host:port of the S3-compatible store behind the gateway (env OPENTRAIL_GATEWAY_BACKEND)")
	fs.StringVar(&g.mode, "gateway-mode", envDefault("OPENTRAIL_GATEWAY_MODE", string(gateway.PassThrough)), "pass-through (forward the client's signed request) or front-door (verify with OpenTrail IAM, re-sign to the backend) (env OPENTRAIL_GATEWAY_MODE)")
	fs.StringVar(&g.keyID, "gateway-backend-access-key-id", envDefault("OPENTRAIL_GATEWAY_BACKEND_ACCESS_KEY_ID", ""), "backend access key ID, front-door mode (env OPENTRAIL_GATEWAY_BACKEND_ACCESS_KEY_ID)")
	fs.StringVar(&g.secret, "gateway-backend-secret-access-key", "", "backend secret access key, front-door mode (env OPENTRAIL_GATEWAY_BACKEND_SECRET_ACCESS_KEY)")
	fs.BoolVar(&g.failClosed, "gateway-fail-closed", os.Getenv("OPENTRAIL_GATEWAY_FAIL_CLOSED") == "true", "refuse gateway requests with 503 while the journal cannot record (env OPENTRAIL_GATEWAY_FAIL_CLOSED=true)")
	fs.StringVar(&g.domains, "gateway-domains", envDefault("OPENTRAIL_GATEWAY_DOMAINS", ""), "comma-separated base domains for virtual-hosted-style requests (<bucket>.<domain>) (env OPENTRAIL_GATEWAY_DOMAINS)")
	fs.StringVar(&g.accountID, "gateway-account-id", envDefault("OPENTRAIL_GATEWAY_ACCOUNT_ID", ""), "account that receives the gateway's records; default the first account (env OPENTRAIL_GATEWAY_ACCOUNT_ID)")
}

func (g *gatewayFlags) check() error {
	if g.secret == "" {
		g.secret = os.Getenv("OPENTRAIL_GATEWAY_BACKEND_SECRET_ACCESS_KEY")
	}
	if g.listen == "" {
		if g.backend != "" {
			return errors.New("--gateway-backend needs --gateway-listen")
		}
		return nil
	}
	if _, _, err := net.SplitHostPort(g.listen); err != nil {
		return fmt.Errorf("--gateway-listen: %w", err)
	}
	u, err := url.Parse(g.backend)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("--gateway-backend must be an http or https URL, got %q", g.backend)
	}
	switch gateway.Mode(g.mode) {
	case gateway.PassThrough:
	case gateway.FrontDoor:
		if g.keyID == "" || g.secret == "" {
			return errors.New("--gateway-mode front-door needs --gateway-backend-access-key-id and --gateway-backend-secret-access-key (or OPENTRAIL_GATEWAY_BACKEND_SECRET_ACCESS_KEY)")
		}
	default:
		return fmt.Errorf("--gateway-mode must be pass-through or front-door, got %q", g.mode)
	}
	if g.accountID != "" && !accountIDPattern.MatchString(g.accountID) {
		return fmt.Errorf("--gateway-account-id must be 12 digits, got %q", g.accountID)
	}
	return nil
}

// startGateway starts the gateway listener when --gateway-listen is set; a closer shuts it
// down before the journal closes.
func (a *app) startGateway(cfg *serveConfig, ids *iam.IAM, rec gateway.Recorder, log *slog.Logger) error {
	g := cfg.gw
	if g.listen == "" {
		return nil
	}
	backend, _ := url.Parse(g.backend) // checked by check
	acct := g.accountID
	if acct == "" {
		if accts := ids.Accounts(); len(accts) > 0 {
			acct = accts[0]
		}
	}
	var domains []string
	for _, d := range strings.Split(g.domains, ",") {
		if d = strings.TrimSpace(d); d != "" {
			domains = append(domains, d)
		}
	}
	region := "us-east-1"
	if len(cfg.regions) > 0 {
		region = cfg.regions[0]
	}
	gw, err := gateway.New(gateway.Config{
		Backend: backend, Mode: gateway.Mode(g.mode),
		BackendAccessKeyID: g.keyID, BackendSecretAccessKey: g.secret,
		Keys: ids, Authorizer: ids, Recorder: rec, AccountID: acct, Region: region,
		Domains: domains, FailClosed: g.failClosed, TrustedProxies: cfg.trustedProxies, Logger: log,
	})
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", g.listen)
	if err != nil {
		return fmt.Errorf("gateway listen: %w", err)
	}
	srv := &http.Server{
		Handler:           gw,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	go func() {
		// With --tls-cert the gateway serves HTTPS with the same certificate as the API.
		serve := func() error { return srv.Serve(ln) }
		if cfg.tlsCert != "" {
			serve = func() error { return srv.ServeTLS(ln, cfg.tlsCert, cfg.tlsKey) }
		}
		if err := serve(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("gateway stopped", "err", err)
		}
	}()
	log.Info("S3 gateway serving", "addr", ln.Addr().String(), "backend", backend.Redacted(), "mode", g.mode, "account", acct)
	a.closers = append(a.closers, func() error {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return srv.Shutdown(ctx)
	})
	return nil
}
