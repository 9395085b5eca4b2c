package digest

import (
	"crypto"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sort"
	"sync"
	"time"

	"github.com/opentrail/opentrail/internal/kv"
	"github.com/opentrail/opentrail/internal/secret"
)

// Signing-key lifetimes. A region signs with one key at a time; each key is valid for
// KeyValidity from its creation, and its successor is created KeyOverlap before it ends, so
// the windows overlap and two keys can be current at once (as with AWS's 30-day keys).
const (
	KeyValidity = 30 * 24 * time.Hour
	KeyOverlap  = 24 * time.Hour
)

// KeyBits is the size of the RSA signing keys.
const KeyBits = 2048

// PublicKey is one signing key as ListPublicKeys shows it.
type PublicKey struct {
	Value         []byte // PKCS#1 RSAPublicKey, DER
	Fingerprint   string // lowercase hex MD5 of Value
	ValidityStart time.Time
	ValidityEnd   time.Time
}

// RSA parses Value.
func (p PublicKey) RSA() (*rsa.PublicKey, error) { return x509.ParsePKCS1PublicKey(p.Value) }

// Fingerprint is the fingerprint of a public key as ListPublicKeys and digests name it:
// lowercase hex MD5 of der, the exact DER bytes published as the key's Value.
func Fingerprint(der []byte) string {
	h := md5.Sum(der)
	return hex.EncodeToString(h[:])
}

// KeyRingOptions configures OpenKeyRing.
type KeyRingOptions struct {
	Store  *kv.Store        // where keys are kept; required
	Box    *secret.Box      // seals private keys at rest; required
	Now    func() time.Time // the clock; default time.Now
	Logger *slog.Logger     // default: discard
	// GenerateKey makes a new private key; default an RSA key of KeyBits from crypto/rand.
	// Tests inject a pool of pre-made keys.
	GenerateKey func() (*rsa.PrivateKey, error)
}

// KeyRing holds the per-region digest signing keys: created on first use, rotated as they
// approach the end of their validity, private halves sealed with the secret Box in the
// metadata store, public halves kept forever so old digests stay verifiable. It is safe for
// concurrent use.
type KeyRing struct {
	store  *kv.Store
	box    *secret.Box
	now    func() time.Time
	log    *slog.Logger
	genKey func() (*rsa.PrivateKey, error)

	mu      sync.Mutex
	regions map[string]*regionKeys
}

// regionKeys are one region's keys, oldest first. mu serialises key creation in the region.
type regionKeys struct {
	mu   sync.Mutex
	keys []*ringKey
}

type ringKey struct {
	stored storedKey
	pub    PublicKey
	priv   *rsa.PrivateKey // opened on first use
}

// storedKey is a key's record in the metadata store, at keyPrefix<region>/<start>/<fingerprint>.
type storedKey struct {
	Region      string    `json:"region"`
	Fingerprint string    `json:"fingerprint"`
	Public      []byte    `json:"public"`  // PKCS#1 DER
	Private     []byte    `json:"private"` // secret.Box sealed PKCS#1 DER
	Start       time.Time `json:"start"`
	End         time.Time `json:"end"`
}

const keyPrefix = "digest/keys/"

// OpenKeyRing loads the signing keys from the store.
func OpenKeyRing(opts KeyRingOptions) (*KeyRing, error) {
	if opts.Store == nil || opts.Box == nil {
		return nil, errors.New("digest: key ring needs a store and a secret box")
	}
	k := &KeyRing{store: opts.Store, box: opts.Box, now: opts.Now, log: opts.Logger, genKey: opts.GenerateKey,
		regions: make(map[string]*regionKeys)}
	if k.now == nil {
		k.now = time.Now
	}
	if k.log == nil {
		k.log = slog.New(slog.DiscardHandler)
	}
	if k.genKey == nil {
		k.genKey = func() (*rsa.PrivateKey, error) { return rsa.GenerateKey(rand.Reader, KeyBits) }
	}
	err := opts.Store.Scan(keyPrefix, func(key string, value []byte) error {
		var sk storedKey
		if err := json.Unmarshal(value, &sk); err != nil {
			return fmt.Errorf("digest: key %s: %w", key, err)
		}
		if _, err := x509.ParsePKCS1PublicKey(sk.Public); err != nil {
			return fmt.Errorf("digest: key %s: %w", key, err)
		}
		rk := k.regions[sk.Region]
		if rk == nil {
			rk = &regionKeys{}
			k.regions[sk.Region] = rk
		}
		rk.keys = append(rk.keys, newRingKey(sk))
		return nil
	})
	if err != nil {
		return nil, err
	}
	for _, rk := range k.regions {
		rk.sort()
	}
	return k, nil
}

func newRingKey(sk storedKey) *ringKey {
	return &ringKey{stored: sk, pub: PublicKey{Value: sk.Public, Fingerprint: sk.Fingerprint, ValidityStart: sk.Start, ValidityEnd: sk.End}}
}

func (rk *regionKeys) sort() {
	sort.SliceStable(rk.keys, func(i, j int) bool { return rk.keys[i].stored.Start.Before(rk.keys[j].stored.Start) })
}

func (k *KeyRing) region(name string) *regionKeys {
	k.mu.Lock()
	defer k.mu.Unlock()
	rk := k.regions[name]
	if rk == nil {
		rk = &regionKeys{}
		k.regions[name] = rk
	}
	return rk
}

// Signer returns the key region signs digests with now, and its fingerprint (the digest's
// digestPublicKeyFingerprint). The first call in a region creates its key; a call in the last
// KeyOverlap of the newest key's validity creates its successor.
func (k *KeyRing) Signer(region string) (crypto.Signer, string, error) {
	return k.SignerAt(region, k.now())
}

// SignerAt returns a key whose validity contains t, for a digest whose digestEndTime is t: a
// digest signed late (delivery catching up after downtime) is then signed with a key that
// `validate-logs` finds when it asks ListPublicKeys for keys valid around the digest's time.
// It picks the newest such key, creating one when none contains t or when t falls in the last
// KeyOverlap of the newest key (rotation); a key created for a past t is valid from t.
func (k *KeyRing) SignerAt(region string, t time.Time) (crypto.Signer, string, error) {
	if region == "" {
		return nil, "", errors.New("digest: no region")
	}
	t = t.UTC()
	rk := k.region(region)
	rk.mu.Lock()
	defer rk.mu.Unlock()
	var cur *ringKey
	for i := len(rk.keys) - 1; i >= 0; i-- {
		if key := rk.keys[i]; !t.Before(key.stored.Start) && t.Before(key.stored.End) {
			cur = key
			break
		}
	}
	newest := cur != nil && cur == rk.keys[len(rk.keys)-1]
	if cur == nil || (newest && !t.Before(cur.stored.End.Add(-KeyOverlap))) {
		start := t
		if now := k.now().UTC(); now.Before(start) {
			start = now
		}
		if t.Sub(start) >= KeyValidity-KeyOverlap {
			return nil, "", fmt.Errorf("digest: no signing key for %s: too far in the future", TimeString(t))
		}
		key, err := k.create(region, start)
		if err != nil {
			return nil, "", err
		}
		rk.keys = append(rk.keys, key)
		rk.sort()
		cur = key
	}
	if cur.priv == nil {
		der, err := k.box.Open(cur.stored.Private)
		if err != nil {
			return nil, "", fmt.Errorf("digest: open signing key %s: %w", cur.pub.Fingerprint, err)
		}
		priv, err := x509.ParsePKCS1PrivateKey([]byte(der))
		if err != nil {
			return nil, "", fmt.Errorf("digest: signing key %s: %w", cur.pub.Fingerprint, err)
		}
		cur.priv = priv
	}
	return cur.priv, cur.pub.Fingerprint, nil
}

// create makes, stores and returns a new key for region valid from start (at second
// precision, as ListPublicKeys reports it).
func (k *KeyRing) create(region string, start time.Time) (*ringKey, error) {
	priv, err := k.genKey()
	if err != nil {
		return nil, fmt.Errorf("digest: generate signing key: %w", err)
	}
	pub := x509.MarshalPKCS1PublicKey(&priv.PublicKey)
	start = start.Truncate(time.Second)
	sk := storedKey{
		Region:      region,
		Fingerprint: Fingerprint(pub),
		Public:      pub,
		Private:     k.box.Seal(string(x509.MarshalPKCS1PrivateKey(priv))),
		Start:       start,
		End:         start.Add(KeyValidity),
	}
	key := keyPrefix + region + "/" + fmt.Sprintf("%020d", start.Unix()) + "/" + sk.Fingerprint
	if err := k.store.Put(key, sk); err != nil {
		return nil, fmt.Errorf("digest: store signing key: %w", err)
	}
	k.log.Info("digest signing key created", "region", region, "fingerprint", sk.Fingerprint,
		"validFrom", TimeString(sk.Start), "validTo", TimeString(sk.End))
	rkey := newRingKey(sk)
	rkey.priv = priv
	return rkey, nil
}

// PublicKeys returns region's keys whose validity overlaps [start, end], oldest first. When the
// range includes now and the region has no current key yet, one is created first, so that the
// current key is always listed (as AWS always has one).
func (k *KeyRing) PublicKeys(region string, start, end time.Time) ([]PublicKey, error) {
	now := k.now()
	if !now.Before(start) && !now.After(end) {
		if _, _, err := k.currentOrCreate(region, now); err != nil {
			return nil, err
		}
	}
	rk := k.region(region)
	rk.mu.Lock()
	defer rk.mu.Unlock()
	var out []PublicKey
	for _, key := range rk.keys {
		if !key.stored.Start.After(end) && key.stored.End.After(start) {
			out = append(out, key.pub)
		}
	}
	return out, nil
}

// currentOrCreate makes sure region has a key valid at now, without rotating.
func (k *KeyRing) currentOrCreate(region string, now time.Time) (crypto.Signer, string, error) {
	rk := k.region(region)
	rk.mu.Lock()
	for _, key := range rk.keys {
		if !now.Before(key.stored.Start) && now.Before(key.stored.End) {
			rk.mu.Unlock()
			return nil, key.pub.Fingerprint, nil
		}
	}
	rk.mu.Unlock()
	return k.SignerAt(region, now)
}

// PublicKey returns the key of region with the given fingerprint, whatever its validity.
func (k *KeyRing) PublicKey(region, fingerprint string) (PublicKey, bool) {
	rk := k.region(region)
	rk.mu.Lock()
	defer rk.mu.Unlock()
	for _, key := range rk.keys {
		if key.pub.Fingerprint == fingerprint {
			return key.pub, true
		}
	}
	return PublicKey{}, false
}
