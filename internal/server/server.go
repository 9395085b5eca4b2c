// Package server is OpenTrail's HTTP front end: one listener for every hosted AWS service.
// It routes a request to its service (by X-Amz-Target or by the SigV4 signing name), reads the
// body within a size limit, authenticates the SigV4 signature, decodes the operation input,
// authorizes the IAM action, runs the handler, turns the call into a CloudTrail record and
// hands it to the recorder — before the response is written — and finally writes the response
// or the AWS error in the service's protocol.
package server

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/awsproto"
)

const protocolQuery = awsproto.Query

// Credentials is what the authenticator knows of an access key.
type Credentials struct {
	Secret       string
	SessionToken string    // temporary credentials only
	Expires      time.Time // temporary credentials only
	Caller       opentrail.Caller
}

// Authenticator resolves access key IDs.
type Authenticator interface {
	LookupKey(accessKeyID string) (Credentials, bool)
}

// Authorizer evaluates the caller's policies.
type Authorizer interface {
	Allowed(c *opentrail.Caller, action, resource string, conditions map[string][]string) (allowed, explicitDeny bool)
}

// Recorder makes a call's record durable. An error fails the call with a 503-class error.
type Recorder interface {
	Record(ctx context.Context, e *opentrail.Event) error
}

// Config is the server's wiring.
type Config struct {
	Regions        []string
	Authenticator  Authenticator
	Authorizer     Authorizer
	Recorder       Recorder // nil records nothing
	Logger         *slog.Logger
	Now            func() time.Time
	TrustedProxies []netip.Prefix // X-Forwarded-For is believed only from these peers
	// Handlers for non-AWS paths (/health, /metrics, ...).
	Extra map[string]http.Handler
}

// Server serves every registered service on one handler.
type Server struct {
	cfg      Config
	log      *slog.Logger
	regions  map[string]bool
	byTarget map[string]*Service
	byName   map[string]*Service
	byRPCv2  map[string]*Service // rpc-v2-cbor services by their path name (rpcv2.go)
	verifier *verifier
}

// New returns a server for cfg; register services with Register.
func New(cfg Config) *Server {
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	s := &Server{
		cfg:      cfg,
		log:      cfg.Logger,
		regions:  make(map[string]bool),
		byTarget: make(map[string]*Service),
		byName:   make(map[string]*Service),
		verifier: newVerifier(),
	}
	for _, r := range cfg.Regions {
		s.regions[r] = true
	}
	return s
}

// Register adds services.
func (s *Server) Register(svcs ...*Service) {
	for _, svc := range svcs {
		if svc.RPCv2Name != "" {
			s.registerRPCv2(svc)
			continue
		}
		// A service served in several protocols registers one Service per protocol under
		// the same Name; its Query one answers requests routed by signing name.
		if s.byName[svc.Name] == nil || svc.Wire.Protocol == awsproto.Query {
			s.byName[svc.Name] = svc
		}
		if svc.TargetPrefix != "" {
			s.byTarget[svc.TargetPrefix] = svc
		}
	}
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h, ok := s.cfg.Extra[r.URL.Path]; ok {
		h.ServeHTTP(w, r)
		return
	}
	reqID := uuid.NewString()
	svc, op, wire := s.route(r)

	if r.ContentLength > awsproto.MaxBodyBytes {
		awsproto.WriteError(w, wire, reqID, errTooLarge)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, awsproto.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			awsproto.WriteError(w, wire, reqID, errTooLarge)
			return
		}
		awsproto.WriteError(w, wire, reqID, opentrail.Errorf("SerializationException", "The request body could not be read"))
		return
	}
	// The signature covers the body as sent; operations read it decoded (Content-Encoding:
	// gzip, which SDKs use for PutMetricData).
	signedBody := body
	if body, err = decodeContentEncoding(r, body); err != nil {
		awsproto.WriteError(w, wire, reqID, err)
		return
	}

	// Query services carry the action in the form; find the service from the signing name.
	var form map[string][]string
	if svc == nil || svc.Wire.Protocol == awsproto.Query {
		if f, err := awsproto.ParseQuery(r, body); err == nil {
			form = f
		} else if svc != nil {
			awsproto.WriteError(w, wire, reqID, err)
			return
		}
	}

	auth, aerr := s.authenticate(r, signedBody)
	if svc == nil {
		svc = s.serviceForRequest(r, auth)
		if svc == nil {
			if aerr != nil {
				awsproto.WriteError(w, wireGuess(r, form), reqID, aerr.forProtocol(wireGuess(r, form).Protocol))
				return
			}
			awsproto.WriteError(w, wireGuess(r, form), reqID, opentrail.Errorf("UnknownOperationException", "The service could not be determined from the request"))
			return
		}
		wire = svc.Wire
	}
	if svc.Wire.Protocol == awsproto.Query {
		if form == nil {
			awsproto.WriteError(w, wire, reqID, opentrail.Errorf("MalformedQueryString", "The request body is not valid form encoding"))
			return
		}
		name := firstValue(form, "Action")
		op = svc.Operations[name]
		if op == nil {
			if aerr == nil {
				awsproto.WriteError(w, wire, reqID, opentrail.Errorf("InvalidAction", "Could not find operation %s for version %s", name, firstValue(form, "Version")))
				return
			}
		}
	}
	if aerr != nil {
		s.recordAuthFailure(r, svc, op, auth, aerr, reqID)
		awsproto.WriteError(w, wire, reqID, aerr.forProtocol(wire.Protocol))
		return
	}
	if op == nil {
		awsproto.WriteError(w, wire, reqID, opentrail.Errorf("UnknownOperationException", "Unknown operation %s", r.Header.Get(awsproto.HeaderTarget)))
		return
	}

	c := &Call{
		Service:   svc,
		Operation: op,
		RequestID: reqID,
		Region:    auth.region,
		Caller:    &auth.creds.Caller,
		SourceIP:  s.sourceIP(r),
		UserAgent: r.UserAgent(),
		Time:      s.cfg.Now(),
		Secure:    r.TLS != nil,
		authz:     s.cfg.Authorizer,
	}
	var dec decoder
	if svc.Wire.Protocol == awsproto.Query {
		delete(form, "Action")
		delete(form, "Version")
		dec = queryDecoder(form)
	} else if svc.Wire.Protocol == awsproto.CBOR {
		dec = cborDecoder(body)
	} else {
		dec = jsonDecoder(body)
	}
	ctx := r.Context()
	if !op.ReadOnly && !s.recorderHealthy() {
		// The journal failed its last append: do not change state that might go unrecorded.
		// The input is still decoded and authorized, and this call's own record is still
		// attempted below; if it lands, the journal is back.
		c.refuse = opentrail.ErrJournalUnavailable
	}
	in, out, herr := s.invoke(ctx, c, op, dec)
	if s.cfg.Recorder != nil {
		rec := s.buildRecord(r, c, in, out, herr)
		// The record must outlive a client that hangs up: it describes a call that happened.
		if err := s.cfg.Recorder.Record(context.WithoutCancel(ctx), rec); err != nil {
			s.log.Error("record call", "op", op.Name, "request_id", reqID, "err", err)
			awsproto.WriteError(w, wire, reqID, opentrail.ErrJournalUnavailable)
			return
		}
	}
	if herr != nil {
		if opentrail.ErrorOf(herr) == nil {
			s.log.Error("internal error", "service", svc.Name, "op", op.Name, "request_id", reqID, "err", herr)
		}
		awsproto.WriteError(w, wire, reqID, herr)
		return
	}
	awsproto.SetRequestID(w, reqID)
	var werr error
	if svc.Wire.Protocol == awsproto.Query {
		if _, empty := out.(*NoOutput); empty {
			out = nil
		}
		werr = awsproto.WriteQuery(w, op.Name, svc.Wire.XMLNamespace, reqID, out)
	} else if svc.Wire.Protocol == awsproto.CBOR {
		werr = awsproto.WriteCBOR(w, out)
	} else {
		werr = awsproto.WriteJSON(w, svc.Wire.ContentType, out)
	}
	if werr != nil {
		s.log.Warn("write response", "op", op.Name, "request_id", reqID, "err", werr)
	}
}

// HealthReporter is implemented by recorders that know whether their last append failed.
type HealthReporter interface {
	Healthy() bool
}

func (s *Server) recorderHealthy() bool {
	h, ok := s.cfg.Recorder.(HealthReporter)
	return !ok || h.Healthy()
}

// invoke runs the operation, turning a handler panic into an internal error so that one bad
// request never takes the server down.
func (s *Server) invoke(ctx context.Context, c *Call, op *Operation, dec decoder) (in, out any, err error) {
	defer func() {
		if p := recover(); p != nil {
			s.log.Error("handler panic", "op", op.Name, "request_id", c.RequestID, "panic", p)
			err = opentrail.ErrInternal
		}
	}()
	return op.run(ctx, c, dec)
}

var errTooLarge = &opentrail.Error{Code: "RequestEntityTooLarge", Message: "Request body exceeds the maximum allowed size of " + strconv.Itoa(awsproto.MaxBodyBytes) + " bytes", Status: http.StatusRequestEntityTooLarge, Sender: true}

// route finds the service and operation of a JSON request by its X-Amz-Target header.
func (s *Server) route(r *http.Request) (*Service, *Operation, awsproto.Wire) {
	target := r.Header.Get(awsproto.HeaderTarget)
	if target == "" {
		if svc, op, wire, ok := s.routeRPCv2(r); ok {
			return svc, op, wire
		}
		return nil, nil, wireGuess(r, nil)
	}
	prefix, name, ok := awsproto.SplitTarget(target)
	if !ok {
		return nil, nil, awsproto.Wire{Protocol: awsproto.JSON}
	}
	svc := s.byTarget[prefix]
	if svc == nil {
		return nil, nil, awsproto.Wire{Protocol: awsproto.JSON}
	}
	return svc, svc.Operations[name], svc.Wire
}

func (s *Server) serviceForRequest(r *http.Request, a *authResult) *Service {
	if a != nil && a.service != "" {
		return s.byName[a.service]
	}
	return nil
}

// wireGuess picks the error protocol for a request whose service is unknown.
func wireGuess(r *http.Request, form map[string][]string) awsproto.Wire {
	if r.Header.Get(awsproto.HeaderTarget) != "" || strings.Contains(r.Header.Get("Content-Type"), "json") {
		return awsproto.Wire{Protocol: awsproto.JSON}
	}
	return awsproto.Wire{Protocol: awsproto.Query}
}

func firstValue(form map[string][]string, k string) string {
	if v := form[k]; len(v) > 0 {
		return v[0]
	}
	return ""
}

// sourceIP is the peer address, or the client named in X-Forwarded-For when the peer is a
// trusted proxy.
func (s *Server) sourceIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || len(s.cfg.TrustedProxies) == 0 {
		return host
	}
	trusted := false
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(peer.Unmap()) {
			trusted = true
			break
		}
	}
	if !trusted {
		return host
	}
	xff := r.Header.Get("X-Forwarded-For")
	if xff == "" {
		return host
	}
	// The right-most address not itself a trusted proxy is the client.
	parts := strings.Split(xff, ",")
	for i := len(parts) - 1; i >= 0; i-- {
		a, err := netip.ParseAddr(strings.TrimSpace(parts[i]))
		if err != nil {
			return host
		}
		inner := false
		for _, p := range s.cfg.TrustedProxies {
			if p.Contains(a.Unmap()) {
				inner = true
				break
			}
		}
		if !inner || i == 0 {
			return a.String()
		}
	}
	return host
}
