package server

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"strings"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/awsproto"
)

// Smithy rpc-v2-cbor requests are routed by path: POST /service/<name>/operation/<Op> with
// the header smithy-protocol: rpc-v2-cbor.

const rpcv2Prefix = "/service/"

func (s *Server) registerRPCv2(svc *Service) {
	if s.byRPCv2 == nil {
		s.byRPCv2 = make(map[string]*Service)
	}
	s.byRPCv2[svc.RPCv2Name] = svc
}

// routeRPCv2 finds the service and operation of an rpc-v2-cbor request. ok is false when the
// request is not one; op is nil for an unknown operation of a known service.
func (s *Server) routeRPCv2(r *http.Request) (svc *Service, op *Operation, wire awsproto.Wire, ok bool) {
	if len(s.byRPCv2) == 0 || !strings.HasPrefix(r.URL.Path, rpcv2Prefix) ||
		!strings.EqualFold(r.Header.Get(awsproto.HeaderSmithyProto), awsproto.SmithyProtocolCBOR) {
		return nil, nil, awsproto.Wire{}, false
	}
	name, rest, found := strings.Cut(r.URL.Path[len(rpcv2Prefix):], "/operation/")
	if !found {
		return nil, nil, awsproto.Wire{Protocol: awsproto.CBOR}, true
	}
	svc = s.byRPCv2[name]
	if svc == nil {
		return nil, nil, awsproto.Wire{Protocol: awsproto.CBOR}, true
	}
	return svc, svc.Operations[rest], svc.Wire, true
}

func cborDecoder(body []byte) decoder {
	return func(v any) error { return awsproto.DecodeCBOR(body, v) }
}

// decodeContentEncoding undoes a request's Content-Encoding: gzip (the SDKs compress
// PutMetricData bodies), within the body size limit. Other encodings pass unchanged.
func decodeContentEncoding(r *http.Request, body []byte) ([]byte, error) {
	if !strings.EqualFold(strings.TrimSpace(r.Header.Get("Content-Encoding")), "gzip") {
		return body, nil
	}
	zr, err := gzip.NewReader(bytes.NewReader(body))
	if err != nil {
		return nil, opentrail.Errorf("SerializationException", "The request body is not valid gzip")
	}
	out, err := io.ReadAll(io.LimitReader(zr, awsproto.MaxBodyBytes+1))
	if err != nil {
		return nil, opentrail.Errorf("SerializationException", "The request body is not valid gzip")
	}
	if len(out) > awsproto.MaxBodyBytes {
		return nil, errTooLarge
	}
	return out, nil
}
