package digest

import (
	"crypto/rsa"
	"crypto/x509"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/opentrail/opentrail/internal/kv"
	"github.com/opentrail/opentrail/internal/secret"
)

// clock is a settable test clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Set(t time.Time)         { c.mu.Lock(); defer c.mu.Unlock(); c.t = t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

// ringEnv is a key ring on a fresh store, with a clock and pre-made keys.
type ringEnv struct {
	store *kv.Store
	box   *secret.Box
	clock *clock
	made  atomic.Int32
}

func newRingEnv(t *testing.T, now time.Time) *ringEnv {
	t.Helper()
	store, err := kv.Open(t.TempDir(), nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = store.Close() })
	box, err := secret.New(make([]byte, 32))
	if err != nil {
		t.Fatal(err)
	}
	return &ringEnv{store: store, box: box, clock: &clock{t: now}}
}

func (e *ringEnv) open(t *testing.T) *KeyRing {
	t.Helper()
	k, err := OpenKeyRing(KeyRingOptions{Store: e.store, Box: e.box, Now: e.clock.Now, Logger: slog.New(slog.DiscardHandler),
		GenerateKey: func() (*rsa.PrivateKey, error) { return testKey(t, int(e.made.Add(1))-1), nil }})
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func fingerprintOf(t *testing.T, k *rsa.PrivateKey) string {
	t.Helper()
	return Fingerprint(x509.MarshalPKCS1PublicKey(&k.PublicKey))
}

func TestKeyRingRotation(t *testing.T) {
	t0 := time.Date(2024, 1, 1, 0, 0, 0, 500, time.UTC)
	env := newRingEnv(t, t0)
	ring := env.open(t)

	// The first call creates the region's key; later calls reuse it.
	s1, fp1, err := ring.Signer("us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	if fp1 != fingerprintOf(t, s1.(*rsa.PrivateKey)) {
		t.Errorf("fingerprint %s is not MD5 of the PKCS#1 public key", fp1)
	}
	env.clock.Advance(KeyValidity - KeyOverlap - time.Second)
	if _, fp, err := ring.Signer("us-east-1"); err != nil || fp != fp1 {
		t.Fatalf("before rotation: fingerprint %s, %v; want %s", fp, err, fp1)
	}
	// Regions have their own keys.
	_, fpEU, err := ring.Signer("eu-west-1")
	if err != nil || fpEU == fp1 {
		t.Fatalf("eu-west-1 key %s, %v; want a key other than us-east-1's %s", fpEU, err, fp1)
	}

	// In the last KeyOverlap of its validity the key is replaced; both are current.
	env.clock.Advance(time.Second)
	t1 := env.clock.Now()
	_, fp2, err := ring.Signer("us-east-1")
	if err != nil || fp2 == fp1 {
		t.Fatalf("rotation: fingerprint %s, %v; want a new key", fp2, err)
	}
	keys, err := ring.PublicKeys("us-east-1", t1, t1)
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0].Fingerprint != fp1 || keys[1].Fingerprint != fp2 {
		t.Fatalf("keys current at rotation = %+v; want %s and %s", keys, fp1, fp2)
	}
	first, second := keys[0], keys[1]
	if !first.ValidityStart.Equal(t0.Truncate(time.Second)) || first.ValidityEnd.Sub(first.ValidityStart) != KeyValidity {
		t.Errorf("first key valid %v–%v; want 30 days from %v", first.ValidityStart, first.ValidityEnd, t0)
	}
	if !second.ValidityStart.Equal(t1.Truncate(time.Second)) || !second.ValidityStart.Before(first.ValidityEnd) {
		t.Errorf("second key valid from %v; want %v, before the first ends (%v)", second.ValidityStart, t1, first.ValidityEnd)
	}
	if Fingerprint(second.Value) != second.Fingerprint {
		t.Errorf("Fingerprint(Value) = %s; want %s", Fingerprint(second.Value), second.Fingerprint)
	}
	if _, err := second.RSA(); err != nil {
		t.Errorf("Value is not PKCS#1: %v", err)
	}

	// Long after, a third key; the old ones stay listed for their ranges.
	env.clock.Advance(60 * 24 * time.Hour)
	_, fp3, err := ring.Signer("us-east-1")
	if err != nil || fp3 == fp2 || fp3 == fp1 {
		t.Fatalf("third key %s, %v", fp3, err)
	}
	listed := func(r *KeyRing, start, end time.Time) []string {
		t.Helper()
		keys, err := r.PublicKeys("us-east-1", start, end)
		if err != nil {
			t.Fatal(err)
		}
		var fps []string
		for _, k := range keys {
			fps = append(fps, k.Fingerprint)
		}
		return fps
	}
	for _, c := range []struct {
		start, end time.Time
		want       []string
	}{
		{t0, t0, []string{fp1}},
		{t0.Add(-time.Hour), t0.Add(-time.Minute), nil},
		{t0, env.clock.Now(), []string{fp1, fp2, fp3}},
		{t1.Add(KeyValidity), t1.Add(KeyValidity + time.Hour), nil}, // between fp2 and fp3
		{env.clock.Now(), env.clock.Now(), []string{fp3}},
	} {
		if got := listed(ring, c.start, c.end); !equalStrings(got, c.want) {
			t.Errorf("PublicKeys(%v, %v) = %v; want %v", c.start, c.end, got, c.want)
		}
	}

	// A late digest is signed with a key valid at its time.
	if _, fp, err := ring.SignerAt("us-east-1", t1.Add(time.Hour)); err != nil || fp != fp2 {
		t.Errorf("SignerAt(t1+1h) = %s, %v; want %s", fp, err, fp2)
	}
	if _, fp, err := ring.SignerAt("us-east-1", t0.Add(time.Hour)); err != nil || fp != fp1 {
		t.Errorf("SignerAt(t0+1h) = %s, %v; want %s", fp, err, fp1)
	}

	// Reopened from the store: the same keys, and the private keys open.
	again := env.open(t)
	if got := listed(again, t0, env.clock.Now()); !equalStrings(got, []string{fp1, fp2, fp3}) {
		t.Errorf("after reopening: %v", got)
	}
	made := env.made.Load()
	s, fp, err := again.Signer("us-east-1")
	if err != nil || fp != fp3 || env.made.Load() != made {
		t.Fatalf("after reopening: Signer = %s, %v (%d keys made, want %d)", fp, err, env.made.Load(), made)
	}
	if fingerprintOf(t, s.(*rsa.PrivateKey)) != fp3 {
		t.Error("reopened private key does not match its public key")
	}
	// A wrong master key cannot open them.
	other, _ := secret.New(append(make([]byte, 31), 1))
	wrong, err := OpenKeyRing(KeyRingOptions{Store: env.store, Box: other, Now: env.clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := wrong.Signer("us-east-1"); err == nil {
		t.Error("Signer with the wrong master key succeeded")
	}
}

func TestPublicKeysCreatesCurrentKey(t *testing.T) {
	now := time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)
	env := newRingEnv(t, now)
	ring := env.open(t)
	// A range in the past lists nothing and creates nothing.
	if keys, err := ring.PublicKeys("us-west-2", now.Add(-48*time.Hour), now.Add(-24*time.Hour)); err != nil || len(keys) != 0 {
		t.Fatalf("past range = %v, %v", keys, err)
	}
	keys, err := ring.PublicKeys("us-west-2", now, now)
	if err != nil || len(keys) != 1 {
		t.Fatalf("PublicKeys(now) = %v, %v; want the current key", keys, err)
	}
	if _, fp, err := ring.Signer("us-west-2"); err != nil || fp != keys[0].Fingerprint {
		t.Errorf("Signer = %s, %v; want the listed key %s", fp, err, keys[0].Fingerprint)
	}
	if n := env.made.Load(); n != 1 {
		t.Errorf("%d keys made; want 1", n)
	}
}

func TestSignerConcurrent(t *testing.T) {
	env := newRingEnv(t, time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC))
	ring := env.open(t)
	var wg sync.WaitGroup
	fps := make([]string, 16)
	for i := range fps {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, fp, err := ring.Signer("us-east-1")
			if err != nil {
				t.Error(err)
				return
			}
			d := startingDigest()
			raw, _ := d.Marshal()
			sig, err := Sign(s, d, raw)
			if err != nil {
				t.Error(err)
				return
			}
			pub, _ := ring.PublicKey("us-east-1", fp)
			rp, _ := pub.RSA()
			if err := Verify(rp, d, raw, sig); err != nil {
				t.Error(err)
			}
			fps[i] = fp
		}()
	}
	wg.Wait()
	for _, fp := range fps {
		if fp != fps[0] {
			t.Fatalf("concurrent first calls got different keys: %v", fps)
		}
	}
	if n := env.made.Load(); n != 1 {
		t.Errorf("%d keys made; want 1", n)
	}
}

func equalStrings(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}
