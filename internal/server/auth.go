package server

import (
	"crypto/subtle"
	"errors"
	"net/http"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/awsproto"
	"github.com/opentrail/opentrail/internal/sigv4"
)

// authResult is what authentication learned of a request, even when it failed.
type authResult struct {
	service string // signing name from the credential scope
	region  string
	creds   Credentials
	known   bool // the access key is known (its owner is recorded on failure)
}

// authError is an authentication failure, written with the code of the service's protocol.
type authError struct {
	jsonCode, queryCode     string
	message                 string
	jsonStatus, queryStatus int
}

func (e *authError) Error() string { return e.jsonCode + ": " + e.message }

func (e *authError) forProtocol(p awsproto.Protocol) *opentrail.Error {
	code, status := e.jsonCode, e.jsonStatus
	if p == awsproto.Query {
		code, status = e.queryCode, e.queryStatus
	}
	return &opentrail.Error{Code: code, Message: e.message, Status: status, Sender: true}
}

var (
	errInvalidToken = &authError{"UnrecognizedClientException", "InvalidClientTokenId", "The security token included in the request is invalid.", http.StatusBadRequest, http.StatusForbidden}
	errExpiredToken = &authError{"ExpiredTokenException", "ExpiredToken", "The security token included in the request is expired", http.StatusBadRequest, http.StatusForbidden}
)

type verifier struct {
	keys *sigv4.KeyCache
}

func newVerifier() *verifier { return &verifier{keys: sigv4.NewKeyCache(4096)} }

// authenticate checks the request's SigV4 signature. It returns what it learned even on
// failure, so that a known key's owner can be recorded.
func (s *Server) authenticate(r *http.Request, body []byte) (*authResult, *authError) {
	sr, err := sigv4.Parse(r)
	if err != nil {
		return nil, sigError(err)
	}
	res := &authResult{service: sr.Credential.Service, region: sr.Credential.Region}
	creds, ok := s.cfg.Authenticator.LookupKey(sr.Credential.AccessKeyID)
	if !ok {
		return res, errInvalidToken
	}
	if creds.SessionToken != "" || sr.SecurityToken != "" {
		if subtle.ConstantTimeCompare([]byte(creds.SessionToken), []byte(sr.SecurityToken)) != 1 {
			return res, errInvalidToken
		}
	}
	res.creds, res.known = creds, true
	now := s.cfg.Now()
	if err := s.verifier.keys.Verify(r, sr, creds.Secret, body, now); err != nil {
		return res, sigError(err)
	}
	if !creds.Expires.IsZero() && now.After(creds.Expires) {
		return res, errExpiredToken
	}
	if !s.regions[sr.Credential.Region] {
		return res, &authError{"InvalidSignatureException", "SignatureDoesNotMatch", "Credential should be scoped to a valid region, not '" + sr.Credential.Region + "'. ", http.StatusBadRequest, http.StatusForbidden}
	}
	return res, nil
}

func sigError(err error) *authError {
	var se *sigv4.Error
	if errors.As(err, &se) {
		return &authError{se.Kind.Code(false), se.Kind.Code(true), se.Message, se.Kind.Status(false), se.Kind.Status(true)}
	}
	return &authError{"IncompleteSignatureException", "IncompleteSignature", err.Error(), http.StatusBadRequest, http.StatusBadRequest}
}
