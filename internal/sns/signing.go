package sns

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"time"

	"github.com/opentrail/opentrail/internal/kv"
	"github.com/opentrail/opentrail/internal/secret"
)

// The message-signing key: RSA 2048, made the first time the service opens a data directory,
// stored in the metadata store sealed with the master key (internal/secret), with a
// self-signed X.509 certificate for it that the server publishes at
// /sns/SimpleNotificationService-<id>.pem, <id> being the first 32 hex digits of the SHA-256
// of the certificate. The key is never rotated.

const signingKeyStoreKey = "sns/signing-key"

type storedSigningKey struct {
	Sealed  []byte    `json:"sealed"` // PKCS #8 DER of the private key, sealed
	Cert    []byte    `json:"cert"`   // DER
	Created time.Time `json:"created"`
}

type signer struct {
	key     *rsa.PrivateKey
	cert    *x509.Certificate
	certPEM []byte
	id      string
}

func loadSigner(store *kv.Store, box *secret.Box, now time.Time) (*signer, error) {
	var rec storedSigningKey
	err := store.Get(signingKeyStoreKey, &rec)
	if errors.Is(err, kv.ErrNotFound) {
		rec, err = newSigningKey(box, now)
		if err != nil {
			return nil, err
		}
		if err := store.Put(signingKeyStoreKey, rec); err != nil {
			return nil, internal("store signing key", err)
		}
	} else if err != nil {
		return nil, internal("load signing key", err)
	}
	der, err := box.Open(rec.Sealed)
	if err != nil {
		return nil, internal("open signing key", err)
	}
	k, err := x509.ParsePKCS8PrivateKey([]byte(der))
	if err != nil {
		return nil, internal("parse signing key", err)
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return nil, errors.New("sns: the stored signing key is not RSA")
	}
	cert, err := x509.ParseCertificate(rec.Cert)
	if err != nil {
		return nil, internal("parse signing certificate", err)
	}
	sum := sha256.Sum256(rec.Cert)
	return &signer{
		key:     key,
		cert:    cert,
		certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: rec.Cert}),
		id:      hex.EncodeToString(sum[:16]),
	}, nil
}

func newSigningKey(box *secret.Box, now time.Time) (storedSigningKey, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return storedSigningKey{}, fmt.Errorf("sns: generate signing key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 127))
	if err != nil {
		return storedSigningKey{}, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "OpenTrail SNS message signing", Organization: []string{"OpenTrail"}},
		NotBefore:             now.Add(-time.Hour).UTC(),
		NotAfter:              now.AddDate(20, 0, 0).UTC(),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return storedSigningKey{}, fmt.Errorf("sns: make signing certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return storedSigningKey{}, err
	}
	return storedSigningKey{Sealed: box.Seal(string(keyDER)), Cert: certDER, Created: now.UTC()}, nil
}
