package server

import (
	"bytes"
	"compress/gzip"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/awsproto"
)

func gz(b []byte) []byte {
	var buf bytes.Buffer
	w := gzip.NewWriter(&buf)
	_, _ = w.Write(b)
	_ = w.Close()
	return buf.Bytes()
}

func TestDecodeContentEncoding(t *testing.T) {
	r := httptest.NewRequest("POST", "/", nil)
	if out, err := decodeContentEncoding(r, []byte("plain")); err != nil || string(out) != "plain" {
		t.Fatalf("identity: %q %v", out, err)
	}
	r.Header.Set("Content-Encoding", "gzip")
	if out, err := decodeContentEncoding(r, gz([]byte("hello"))); err != nil || string(out) != "hello" {
		t.Fatalf("gzip: %q %v", out, err)
	}
	if _, err := decodeContentEncoding(r, []byte("not gzip")); opentrail.ErrorOf(err) == nil || opentrail.ErrorOf(err).Code != "SerializationException" {
		t.Fatalf("bad gzip: %v", err)
	}
	bomb := gz(bytes.Repeat([]byte{0}, awsproto.MaxBodyBytes+1))
	if _, err := decodeContentEncoding(r, bomb); err != errTooLarge {
		t.Fatalf("oversized gzip: %v", err)
	}
}

func TestRouteRPCv2(t *testing.T) {
	s := New(Config{})
	svc := &Service{Name: "monitoring", RPCv2Name: "GraniteServiceVersion20100801", Wire: awsproto.Wire{Protocol: awsproto.CBOR}}
	svc.Add(&Operation{Name: "ListMetrics"})
	query := &Service{Name: "monitoring", Wire: awsproto.Wire{Protocol: awsproto.Query}}
	json := &Service{Name: "monitoring", TargetPrefix: "GraniteServiceVersion20100801", Wire: awsproto.Wire{Protocol: awsproto.JSON}}
	s.Register(json, svc, query)
	if s.byName["monitoring"] != query || s.byTarget["GraniteServiceVersion20100801"] != json {
		t.Fatal("the Query variant must own signing-name routing, the JSON one the target")
	}
	req := func(path, proto string) (*Service, *Operation, bool) {
		r := httptest.NewRequest("POST", path, strings.NewReader(""))
		if proto != "" {
			r.Header.Set("Smithy-Protocol", proto)
		}
		sv, op, _, ok := s.routeRPCv2(r)
		return sv, op, ok
	}
	if sv, op, ok := req("/service/GraniteServiceVersion20100801/operation/ListMetrics", "rpc-v2-cbor"); !ok || sv != svc || op == nil || op.Name != "ListMetrics" {
		t.Fatalf("routed to %v %v %v", sv, op, ok)
	}
	if _, op, ok := req("/service/GraniteServiceVersion20100801/operation/Nope", "rpc-v2-cbor"); !ok || op != nil {
		t.Fatal("unknown operation")
	}
	if _, _, ok := req("/service/GraniteServiceVersion20100801/operation/ListMetrics", ""); ok {
		t.Fatal("routed without smithy-protocol")
	}
	if sv, _, ok := req("/service/Other/operation/ListMetrics", "rpc-v2-cbor"); !ok || sv != nil {
		t.Fatal("unknown service")
	}
}
