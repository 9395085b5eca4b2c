// Package validate checks a trail's log files and digest files as `aws cloudtrail
// validate-logs` does, with the same walk, output lines, summary and exit status, and by
// default more strictly (see Options.Strict and Options.OutOfChain). docs/digest.md describes
// the format and both sets of checks.
//
// The walk follows the AWS CLI 1.45.11 algorithm (awscli/customizations/cloudtrail/
// validation.py): list the trail's digests for the range, load the region's public keys once,
// start at the newest digest and follow previousDigestS3Object links backwards, falling back
// to the next older listed digest when a digest is missing, invalid or starts a chain. Digests
// are fetched ahead and log files hashed by a bounded pool of workers; output keeps the
// CLI's order.
package validate

import (
	"context"
	"crypto/rsa"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/opentrail/opentrail/internal/blob"
	"github.com/opentrail/opentrail/internal/digest"
)

// Store is the part of a blob store validate-logs reads from. blob.Dir and blob.S3 are Stores.
type Store interface {
	Get(ctx context.Context, bucket, key string) (*blob.Object, error)
	List(ctx context.Context, bucket, prefix, startAfter string, fn func(blob.Object) error) error
}

// Keys lists the digest signing keys of the digests' source region whose validity overlaps
// [start, end]: CloudTrail's ListPublicKeys, called once per range without paging, as the CLI
// does.
type Keys interface {
	PublicKeys(ctx context.Context, start, end time.Time) ([]digest.PublicKey, error)
}

// KeysFunc adapts a function to Keys.
type KeysFunc func(ctx context.Context, start, end time.Time) ([]digest.PublicKey, error)

// PublicKeys calls f.
func (f KeysFunc) PublicKeys(ctx context.Context, start, end time.Time) ([]digest.PublicKey, error) {
	return f(ctx, start, end)
}

// Options configure a run. The zero values of Strict and OutOfChain give exactly the AWS
// CLI's checks; `opentrail validate-logs` turns both on unless told otherwise.
type Options struct {
	Store Store
	Keys  Keys

	Trail  Trail  // from ParseTrailARN
	Bucket string // the bucket the digests are in
	Prefix string // the trail's S3 key prefix, "" for none
	OrgID  string // "o-..." for an organization trail's files, else ""
	// Account is the account whose files are validated (the member account of an organization
	// trail); default Trail.Account.
	Account string
	// SourceRegion is the region whose digests are validated; default Trail.HomeRegion.
	SourceRegion string
	Start, End   time.Time
	Verbose      bool

	// Strict adds the checks the CLI leaves out: each digest's previousDigestHashValue and
	// previousDigestSignature must match the previous digest actually stored (so the chain is
	// verified by hashes and signatures, not only by each object's own metadata), the link
	// members must be complete, the digest must agree with its object key, the signature
	// algorithm must be SHA256withRSA, and no gzip file may carry data after its first member
	// (which the CLI ignores unread).
	Strict bool
	// OutOfChain reports the trail's digests that are in the bucket for the range but not on
	// the chain the walk followed, and log files of the account and region delivered inside
	// the span the valid digests cover that no valid digest lists (digests of the region's
	// other trails count too). Both are counted INVALID.
	OutOfChain bool

	Workers int // parallel fetches; default 8

	Stdout, Stderr io.Writer
	// Progress, when set, receives a progress report: a self-overwriting line (for a
	// terminal) or, with ProgressLines, a line every ProgressInterval (default 1 s for lines,
	// 200 ms for a terminal). It is usually Stderr; report lines then clear it first.
	Progress      io.Writer
	ProgressLines bool
	// ProgressInterval is how often progress is shown.
	ProgressInterval time.Duration
}

// Result counts what a run found.
type Result struct {
	ValidDigests, InvalidDigests                 int
	ValidBackfillDigests, InvalidBackfillDigests int
	ValidLogs, InvalidLogs                       int
	// FoundStart and FoundEnd are the span the valid digests cover within the range (zero
	// when none was valid).
	FoundStart, FoundEnd time.Time
}

// ExitCode is the status `aws cloudtrail validate-logs` exits with: 1 when any digest or log
// file is INVALID (missing and out-of-chain files included), else 0.
func (r *Result) ExitCode() int {
	if r.InvalidDigests+r.InvalidBackfillDigests+r.InvalidLogs > 0 {
		return 1
	}
	return 0
}

// Run validates the trail's files and writes the CLI's report to Stdout and Stderr. An error
// means the run was aborted, as the CLI aborts (no public keys, a storage error other than a
// missing object, a bad time range): nothing more is written, and the caller prints the
// error, which is worded as the CLI words it.
func Run(ctx context.Context, o Options) (*Result, error) {
	if o.Start.After(o.End) {
		return nil, cliErrorf("Invalid time range specified: start-time must occur before end-time")
	}
	if o.Account == "" {
		o.Account = o.Trail.Account
	}
	if o.SourceRegion == "" {
		o.SourceRegion = o.Trail.HomeRegion
	}
	if o.Workers <= 0 {
		o.Workers = 8
	}
	o.Start, o.End = o.Start.UTC(), o.End.UTC()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	r := &runner{
		o:        o,
		sem:      make(chan struct{}, o.Workers),
		futures:  make(map[objectID]*future),
		visited:  make(map[objectID]bool),
		listed:   make(map[objectID]bool),
		listedBy: make(map[listKey]*listing),
		refLogs:  make(map[objectID]bool),
		queue:    make(chan *entry, 4*o.Workers+16),
		logJobs:  make(chan logJob),
		res:      &Result{},
	}
	r.rep = newReporter(o, r.res)
	r.rep.startup()
	if o.Progress != nil {
		stop := r.rep.progress.run()
		defer stop()
	}

	printed := make(chan error, 1)
	go func() { printed <- r.rep.print(r.queue, cancel) }()
	// Log files are checked by a fixed set of goroutines, whose stacks, grown once through the
	// storage client, stay grown.
	var checkers sync.WaitGroup
	for range o.Workers {
		checkers.Go(func() {
			for j := range r.logJobs {
				r.runLogCheck(ctx, j)
			}
		})
	}
	walkErr := r.walk(ctx)
	close(r.logJobs)
	checkers.Wait()
	close(r.queue)
	if err := <-printed; err != nil {
		return nil, err
	}
	if walkErr != nil {
		return nil, walkErr
	}
	r.rep.progress.clear()
	r.rep.summary()
	return r.res, nil
}

// objectID names an object.
type objectID struct{ bucket, key string }

type listKey struct {
	bucket string
	end    time.Time
}

// listing is one listing of a bucket's digest keys, standard and backfill, ascending.
type listing struct{ standard, backfill []string }

type runner struct {
	o   Options
	rep *reporter
	res *Result

	sem     chan struct{} // bounds concurrent fetches
	mu      sync.Mutex
	futures map[objectID]*future // digest fetches started ahead of the walk

	keyRe    *regexp.Regexp
	listedBy map[listKey]*listing
	listed   map[objectID]bool // every standard digest key listed
	visited  map[objectID]bool // every digest the walk loaded

	// For OutOfChain: windows of the valid digests and the log files they list.
	covered []span
	refLogs map[objectID]bool

	queue   chan *entry
	logJobs chan logJob
}

// logJob is a log file to check and the report entry that gets the result.
type logJob struct {
	lf digest.LogFile
	e  *entry
}

type span struct{ start, end time.Time }

// future is an object fetched in the background.
type future struct {
	done chan struct{}
	obj  *blob.Object
	err  error
}

func (r *runner) get(ctx context.Context, id objectID) (*blob.Object, error) {
	select {
	case r.sem <- struct{}{}:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	defer func() { <-r.sem }()
	return r.o.Store.Get(ctx, id.bucket, id.key)
}

// prefetch starts fetching a digest unless it is already on its way.
func (r *runner) prefetch(ctx context.Context, id objectID) *future {
	r.mu.Lock()
	defer r.mu.Unlock()
	if f := r.futures[id]; f != nil {
		return f
	}
	f := &future{done: make(chan struct{})}
	r.futures[id] = f
	go func() {
		defer close(f.done)
		f.obj, f.err = r.get(ctx, id)
	}()
	return f
}

// fetch waits for a digest fetched by prefetch (starting it if needed); take also forgets it.
func (r *runner) fetch(ctx context.Context, id objectID, take bool) (*blob.Object, error) {
	f := r.prefetch(ctx, id)
	select {
	case <-f.done:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	if take {
		r.forget(id)
	}
	return f.obj, f.err
}

func (r *runner) forget(id objectID) {
	r.mu.Lock()
	delete(r.futures, id)
	r.mu.Unlock()
}

// prefetchList starts fetching the next few digests the walk will likely need: the newest of
// the ones still listed.
func (r *runner) prefetchList(ctx context.Context, bucket string, digests []string) {
	for i, n := len(digests)-1, 0; i >= 0 && n < 2*r.o.Workers; i, n = i-1, n+1 {
		r.prefetch(ctx, objectID{bucket, digests[i]})
	}
}

// digestKeyRegexp is the CLI's filter of listed keys: the trail's digests of the account and
// source region, standard and backfill.
func (r *runner) digestKeyRegexp() *regexp.Regexp {
	if r.keyRe == nil {
		var b strings.Builder
		b.WriteString("^")
		if r.o.Prefix != "" {
			b.WriteString(regexp.QuoteMeta(r.o.Prefix) + "/")
		}
		b.WriteString("AWSLogs/")
		if r.o.OrgID != "" {
			b.WriteString(r.o.OrgID + "/")
		}
		acct, src := regexp.QuoteMeta(r.o.Account), regexp.QuoteMeta(r.o.SourceRegion)
		b.WriteString(acct + `/CloudTrail\-Digest/` + src + `/\d+/\d+/\d+/` + acct + `_CloudTrail\-Digest_` + src + "_" +
			regexp.QuoteMeta(r.o.Trail.Name) + "_" + regexp.QuoteMeta(r.o.Trail.HomeRegion) + `_.+(?:_backfill)?\.json\.gz$`)
		r.keyRe = regexp.MustCompile(b.String())
	}
	return r.keyRe
}

func (r *runner) keyInfo(end time.Time) digest.KeyInfo {
	return digest.KeyInfo{Prefix: r.o.Prefix, OrgID: r.o.OrgID, Account: r.o.Account, SourceRegion: r.o.SourceRegion,
		TrailName: r.o.Trail.Name, HomeRegion: r.o.Trail.HomeRegion, End: end}
}

// keyDate is the time stamp slice of a digest key the CLI reads: [-24:-8], or [-33:-17] for
// a backfill digest (with Python's clamping of out-of-range slices).
func keyDate(key string) string {
	lo, hi := len(key)-24, len(key)-8
	if strings.HasSuffix(key, "_backfill.json.gz") {
		lo, hi = len(key)-33, len(key)-17
	}
	lo, hi = max(lo, 0), max(hi, 0)
	if lo > hi {
		return ""
	}
	return key[lo:hi]
}

// listDigests lists the digest keys of bucket from start to end, as the CLI does: ListObjects
// from a marker one minute before start under the source region's digest folder, keeping keys
// that match the trail's pattern with a key date in [start, end + 1 h] (string comparison),
// and stopping at the first later one.
func (r *runner) listDigests(ctx context.Context, bucket string, end time.Time) (*listing, error) {
	lk := listKey{bucket, end}
	if l := r.listedBy[lk]; l != nil {
		return l, nil
	}
	m := r.o.Start.Add(-time.Minute)
	marker := r.keyInfo(m).String()
	prefix := strings.TrimSuffix(r.keyInfo(m).Dir(), "/")
	target0 := r.o.Start.Format(digest.KeyTimeFormat)
	target1 := end.Add(time.Hour).Format(digest.KeyTimeFormat)
	re := r.digestKeyRegexp()
	l := &listing{}
	errStop := errors.New("stop")
	err := r.o.Store.List(ctx, bucket, prefix, marker, func(obj blob.Object) error {
		if !re.MatchString(obj.Key) {
			return nil
		}
		d := keyDate(obj.Key)
		if d > target1 {
			return errStop
		}
		if d < target0 {
			return nil
		}
		if strings.HasSuffix(obj.Key, "_backfill.json.gz") {
			l.backfill = append(l.backfill, obj.Key)
		} else {
			l.standard = append(l.standard, obj.Key)
			r.listed[objectID{bucket, obj.Key}] = true
		}
		return nil
	})
	if err != nil && !errors.Is(err, errStop) {
		return nil, err
	}
	r.listedBy[lk] = l
	return l, nil
}

// keySet is the public keys loaded so far, by fingerprint.
type keySet map[string]digest.PublicKey

func (r *runner) loadKeys(ctx context.Context, ks keySet, start, end time.Time) error {
	keys, err := r.o.Keys.PublicKeys(ctx, start, end)
	if err != nil {
		return err
	}
	if len(keys) == 0 {
		return cliErrorf("No public keys found between %s and %s", display(start), display(end))
	}
	for _, k := range keys {
		ks[k.Fingerprint] = k
	}
	return nil
}

// walk runs the CLI's two traversals (standard digests, then backfill digests) and, when
// asked, the out-of-chain checks, queueing every report line in order.
func (r *runner) walk(ctx context.Context) error {
	l, err := r.listDigests(ctx, r.o.Bucket, r.o.End)
	if err != nil {
		return err
	}
	keys := keySet{}
	if err := r.loadKeys(ctx, keys, r.o.Start, r.o.End.Add(2*time.Hour)); err != nil {
		return err
	}
	standard := append([]string(nil), l.standard...)
	if err := r.traverse(ctx, standard, keys, false); err != nil {
		return err
	}
	backfill := append([]string(nil), l.backfill...)
	if err := r.traverse(ctx, backfill, keySet{}, true); err != nil {
		return err
	}
	if r.o.OutOfChain {
		return r.outOfChain(ctx, keys)
	}
	return nil
}

// popLast is the CLI's _get_last_digest: with no before key, the last listed key; else the
// last listed key dated before it, dropping the ones passed over (and their prefetches).
func (r *runner) popLast(bucket string, digests *[]string, before string) (string, time.Time, error) {
	var beforeDate time.Time
	if before != "" {
		var err error
		if beforeDate, err = ParseTime(keyDate(before)); err != nil {
			return "", time.Time{}, err
		}
	}
	for len(*digests) > 0 {
		d := *digests
		key := d[len(d)-1]
		*digests = d[:len(d)-1]
		date, err := ParseTime(keyDate(key))
		if err != nil {
			return "", time.Time{}, err
		}
		if before == "" || date.Before(beforeDate) {
			return key, date, nil
		}
		r.forget(objectID{bucket, key})
	}
	return "", time.Time{}, nil
}

// traverse is the CLI's _traverse_digest_chain.
func (r *runner) traverse(ctx context.Context, digests []string, keys keySet, backfill bool) error {
	bucket := r.o.Bucket
	r.prefetchList(ctx, bucket, digests)
	key, lastStart, err := r.popLast(bucket, &digests, "")
	if err != nil {
		return err
	}
	var endDate time.Time
	for key != "" && !r.o.Start.After(lastStart) {
		if err := ctx.Err(); err != nil {
			return err
		}
		id := objectID{bucket, key}
		var v *verdict
		if r.visited[id] {
			// A chain that loops would keep the CLI walking forever; here the digest reached
			// again is INVALID and the walk goes on with the next older listed one.
			v = &verdict{kind: invalid, msg: "Digest file\ts3://" + bucket + "/" + key + "\tINVALID: the chain of digests loops back to this digest"}
		} else if v, err = r.load(ctx, keys, id, backfill); err != nil {
			return err
		}
		r.visited[id] = true
		r.rep.progress.digestDone()
		next := func(cb func(nextKey string, nextEnd time.Time) error) error {
			k, e, err := r.popLast(bucket, &digests, key)
			if err != nil {
				return err
			}
			if err := cb(k, e); err != nil {
				return err
			}
			key, endDate = k, e
			r.prefetchList(ctx, bucket, digests)
			return nil
		}
		switch v.kind {
		case missing:
			err = next(func(string, time.Time) error {
				return r.emit(ctx, &entry{kind: entryDigest, backfill: backfill, invalid: true,
					line: digestLine(backfill, bucket, key, "INVALID: not found")})
			})
		case invalid:
			err = next(func(string, time.Time) error {
				return r.emit(ctx, &entry{kind: entryDigest, backfill: backfill, invalid: true, line: prefixed(backfill, v.msg)})
			})
		case valid:
			lastStart, endDate = v.start, v.end
			if err := r.reportValid(ctx, v, bucket, key, backfill); err != nil {
				return err
			}
			d := v.d
			if d.PreviousDigestS3Bucket == nil || d.PreviousDigestS3Object == nil {
				err = next(func(nextKey string, nextEnd time.Time) error {
					if nextKey == "" {
						return nil
					}
					return r.emit(ctx, &entry{kind: entryGap, line: prefixed(backfill, fmt.Sprintf(
						"No log files were delivered by CloudTrail between %s and %s", display(nextEnd), display(lastStart)))})
				})
				break
			}
			key = *d.PreviousDigestS3Object
			if *d.PreviousDigestS3Bucket != bucket {
				bucket = *d.PreviousDigestS3Bucket
				l, lerr := r.listDigests(ctx, bucket, endDate)
				if lerr != nil {
					return lerr
				}
				if backfill {
					digests = append([]string(nil), l.backfill...)
				} else {
					digests = append([]string(nil), l.standard...)
				}
			}
			r.prefetch(ctx, objectID{bucket, key})
			r.prefetchList(ctx, bucket, digests)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func prefixed(backfill bool, s string) string {
	if backfill {
		return "(backfill) " + s
	}
	return s
}

func digestLine(backfill bool, bucket, key, status string) string {
	return prefixed(backfill, "Digest file\ts3://"+bucket+"/"+key+"\t"+status)
}

type verdictKind int

const (
	valid verdictKind = iota
	missing
	invalid
)

// verdict is what loading and checking one digest found.
type verdict struct {
	kind       verdictKind
	msg        string // the INVALID line
	d          *digest.Digest
	raw        []byte
	sig        string // the signature in the object's metadata
	start, end time.Time
	problems   []string // Strict: why a digest the CLI accepts is INVALID
}

// load is the CLI's _load_and_validate_digest (plus the digest's start time, which the walk
// parses next), with the strict checks of the digest on its own.
func (r *runner) load(ctx context.Context, keys keySet, id objectID, backfill bool) (*verdict, error) {
	obj, err := r.fetch(ctx, id, true)
	if errors.Is(err, blob.ErrObjectNotFound) {
		return &verdict{kind: missing}, nil
	}
	if err != nil {
		return nil, err
	}
	bad := func(status string) (*verdict, error) {
		return &verdict{kind: invalid, msg: "Digest file\ts3://" + id.bucket + "/" + id.key + "\tINVALID: " + status}, nil
	}
	raw, trailing, err := digest.Gunzip(obj.Body)
	if err != nil || !isJSONObject(raw) {
		return bad("invalid format")
	}
	sig, hasSig := obj.Metadata[digest.MetaSignature]
	alg, hasAlg := obj.Metadata[digest.MetaSignatureAlgorithm]
	if !hasSig || !hasAlg {
		return bad("signature verification failed")
	}
	var backfillTS string
	if strings.HasSuffix(id.key, "_backfill.json.gz") {
		var ok bool
		if backfillTS, ok = obj.Metadata["backfill-generation-timestamp"]; !ok {
			return bad("invalid format")
		}
	}
	d, err := digest.Parse(raw)
	if err != nil {
		return bad("invalid format")
	}
	if d.DigestS3Bucket != id.bucket || d.DigestS3Object != id.key {
		return bad("has been moved from its original location")
	}
	fp := d.DigestPublicKeyFingerprint
	if _, ok := keys[fp]; !ok && backfill {
		ts, err := ParseTime(backfillTS)
		if err != nil {
			return bad(err.Error())
		}
		if err := r.loadKeys(ctx, keys, ts.Add(-time.Hour), ts.Add(time.Hour)); err != nil {
			var ce *cliError
			if !errors.As(err, &ce) {
				return nil, err
			}
			return bad(err.Error())
		}
	}
	pk, ok := keys[fp]
	if !ok {
		return bad("public key not found in region " + r.o.Trail.HomeRegion + " for fingerprint " + fp)
	}
	pub, err := pk.RSA()
	if err != nil {
		return bad("Unable to load PKCS #1 key with fingerprint " + fp)
	}
	sigBytes, err := unhexlify(sig)
	if err != nil {
		return bad(err.Error())
	}
	if err := digest.Verify(pub, d, raw, hex.EncodeToString(pythonSignature(pub, sigBytes))); err != nil {
		return bad("signature verification failed")
	}
	end, err := ParseTime(d.DigestEndTime)
	if err != nil {
		return bad(err.Error())
	}
	start, err := ParseTime(d.DigestStartTime)
	if err != nil {
		return bad(err.Error())
	}
	v := &verdict{kind: valid, d: d, raw: raw, sig: sig, start: start, end: end}
	if r.o.Strict {
		if trailing {
			v.problems = append(v.problems, "data after the gzip stream")
		}
		if alg != digest.SignatureAlgorithm {
			v.problems = append(v.problems, fmt.Sprintf("signature algorithm %q is not %s", alg, digest.SignatureAlgorithm))
		}
		if k, err := digest.ParseKey(id.key); err != nil || k.Account != d.AWSAccountID || k.End.Format(digest.TimeFormat) != d.DigestEndTime {
			v.problems = append(v.problems, "awsAccountId or digestEndTime doesn't match the object key")
		}
		if p := d.PreviousDigestS3Object; (p == nil) != (d.PreviousDigestS3Bucket == nil) ||
			(p != nil && (d.PreviousDigestHashValue == nil || d.PreviousDigestSignature == nil ||
				d.PreviousDigestHashAlgorithm == nil || *d.PreviousDigestHashAlgorithm != digest.HashAlgorithm)) {
			v.problems = append(v.problems, "previous digest link is incomplete")
		}
	}
	return v, nil
}

// isJSONObject reports whether b is UTF-8 text of one JSON object: what the CLI's json.loads
// must find before it looks at the metadata.
func isJSONObject(b []byte) bool {
	if !utf8.Valid(b) {
		return false
	}
	var m map[string]json.RawMessage
	return json.Unmarshal(b, &m) == nil && m != nil
}

// unhexlify decodes a hex signature as Python's binascii.unhexlify, with its error messages.
func unhexlify(s string) ([]byte, error) {
	if len(s)%2 == 1 {
		return nil, cliErrorf("Odd-length string")
	}
	b, err := hex.DecodeString(s)
	if err != nil {
		return nil, cliErrorf("Non-hexadecimal digit found")
	}
	return b, nil
}

// pythonSignature normalises a signature as the CLI's pure-Python rsa.verify reads it: as a
// big-endian integer, so leading zero bytes may be missing or extra.
func pythonSignature(pub *rsa.PublicKey, sig []byte) []byte {
	k := pub.Size()
	for len(sig) > k && sig[0] == 0 {
		sig = sig[1:]
	}
	if len(sig) < k {
		sig = append(make([]byte, k-len(sig)), sig...)
	}
	return sig
}

// reportValid queues a digest the CLI accepts — INVALID when a strict check fails — and its
// log files, and records what the out-of-chain checks need.
func (r *runner) reportValid(ctx context.Context, v *verdict, bucket, key string, backfill bool) error {
	d := v.d
	problems := v.problems
	if r.o.Strict && len(problems) == 0 && d.PreviousDigestS3Bucket != nil && d.PreviousDigestS3Object != nil {
		problems = append(problems, r.checkLink(ctx, d)...)
	}
	e := &entry{kind: entryDigest, backfill: backfill}
	if len(problems) > 0 {
		e.invalid = true
		e.line = digestLine(backfill, bucket, key, "INVALID: "+strings.Join(problems, "; "))
	} else {
		e.line = digestLine(backfill, d.DigestS3Bucket, d.DigestS3Object, "valid")
		e.found = &span{v.start, v.end}
	}
	if err := r.emit(ctx, e); err != nil {
		return err
	}
	r.covered = append(r.covered, span{v.start, v.end})
	for _, lf := range d.LogFiles {
		r.refLogs[objectID{lf.S3Bucket, lf.S3Object}] = true
		if err := r.emit(ctx, r.checkLog(ctx, lf)); err != nil {
			return err
		}
	}
	return nil
}

// checkLink compares d's previousDigest* members with the previous digest as stored: the hash
// of its uncompressed bytes and its signature. A previous digest that is missing or unreadable
// is reported on its own when the walk reaches it.
func (r *runner) checkLink(ctx context.Context, d *digest.Digest) []string {
	obj, err := r.fetch(ctx, objectID{*d.PreviousDigestS3Bucket, *d.PreviousDigestS3Object}, false)
	if err != nil {
		return nil
	}
	raw, _, err := digest.Gunzip(obj.Body)
	if err != nil {
		return nil
	}
	var problems []string
	if digest.Hash(raw) != *d.PreviousDigestHashValue {
		problems = append(problems, "previousDigestHashValue doesn't match the previous digest")
	}
	if sig, ok := obj.Metadata[digest.MetaSignature]; ok && !strings.EqualFold(sig, *d.PreviousDigestSignature) {
		problems = append(problems, "previousDigestSignature doesn't match the previous digest's signature")
	}
	return problems
}

// checkLog queues the check of one log file: the CLI's _download_log, plus the strict checks.
func (r *runner) checkLog(ctx context.Context, lf digest.LogFile) *entry {
	e := &entry{kind: entryLog, done: make(chan struct{}),
		line: "Log file\ts3://" + lf.S3Bucket + "/" + lf.S3Object + "\t"}
	r.rep.progress.logQueued()
	select {
	case r.logJobs <- logJob{lf, e}:
	case <-ctx.Done():
		e.err = ctx.Err()
		r.rep.progress.logDone()
		close(e.done)
	}
	return e
}

// runLogCheck checks a log file queued by checkLog.
func (r *runner) runLogCheck(ctx context.Context, j logJob) {
	e, lf := j.e, j.lf
	defer close(e.done)
	defer r.rep.progress.logDone()
	obj, err := r.get(ctx, objectID{lf.S3Bucket, lf.S3Object})
	switch {
	case errors.Is(err, blob.ErrObjectNotFound):
		e.invalid, e.line = true, e.line+"INVALID: not found"
		return
	case err != nil:
		e.err = err
		return
	}
	hash, truncated, trailing, err := hashLog(obj.Body)
	switch {
	case err != nil:
		e.invalid, e.line = true, e.line+"INVALID: invalid format"
	case hash != lf.HashValue:
		e.invalid, e.line = true, e.line+"INVALID: hash value doesn't match"
	case r.o.Strict && (truncated || trailing):
		what := "data after the gzip stream"
		if truncated {
			what = "truncated gzip stream"
		}
		e.invalid, e.line = true, e.line+"INVALID: "+what
	default:
		e.line += "valid"
	}
}

// emit queues a report entry, unless the run is being cancelled.
func (r *runner) emit(ctx context.Context, e *entry) error {
	select {
	case r.queue <- e:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// mergeSpans sorts spans and joins the ones that touch or nearly touch.
func mergeSpans(spans []span, slack time.Duration) []span {
	sort.Slice(spans, func(i, j int) bool { return spans[i].start.Before(spans[j].start) })
	var out []span
	for _, s := range spans {
		if n := len(out); n > 0 && !s.start.After(out[n-1].end.Add(slack)) {
			if s.end.After(out[n-1].end) {
				out[n-1].end = s.end
			}
			continue
		}
		out = append(out, s)
	}
	return out
}
