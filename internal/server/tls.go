package server

import (
	"crypto/tls"
	"net/http"
	"strings"

	"github.com/opentrail/opentrail"
)

func tlsDetails(r *http.Request) *opentrail.TLSDetails {
	st := r.TLS
	v := "TLSv1.2"
	if st.Version == tls.VersionTLS13 {
		v = "TLSv1.3"
	}
	suite := tls.CipherSuiteName(st.CipherSuite)
	suite = strings.TrimPrefix(suite, "TLS_")
	return &opentrail.TLSDetails{TLSVersion: v, CipherSuite: suite, ClientProvidedHostHeader: r.Host}
}
