package e2e

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	cttypes "github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/testserver"
)

// selfSigned writes a certificate for 127.0.0.1 and its key, and returns a client trusting it.
func selfSigned(t *testing.T) (certFile, keyFile string, client *http.Client) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "opentrail-test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600); err != nil {
		t.Fatal(err)
	}
	parsed, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(parsed)
	client = &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}}}
	return certFile, keyFile, client
}

func TestTLSDetailsRecorded(t *testing.T) {
	cert, key, client := selfSigned(t)
	srv := testserver.Start(t, testserver.WithTLS(cert, key, client))
	ctx := testserver.Context(t)
	if _, err := sts.NewFromConfig(srv.RootConfig()).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{}); err != nil {
		t.Fatal(err)
	}
	ct := cloudtrail.NewFromConfig(srv.RootConfig())
	evs := waitFor(t, ct, attr(cttypes.LookupAttributeKeyEventName, "GetCallerIdentity"), func(e []cttypes.Event) bool { return len(e) == 1 })
	var r opentrail.Event
	if err := json.Unmarshal([]byte(aws.ToString(evs[0].CloudTrailEvent)), &r); err != nil {
		t.Fatal(err)
	}
	if r.TLSDetails == nil || r.TLSDetails.TLSVersion != "TLSv1.3" || r.TLSDetails.CipherSuite == "" || r.TLSDetails.ClientProvidedHostHeader != srv.Addr {
		t.Fatalf("tlsDetails = %+v; want TLSv1.3, a cipher suite and host %s", r.TLSDetails, srv.Addr)
	}
}
