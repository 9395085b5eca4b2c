package validate

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"hash"
	"io"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	kgzip "github.com/klauspost/compress/gzip"

	"github.com/opentrail/opentrail/internal/blob"
	"github.com/opentrail/opentrail/internal/digest"
)

// hashLog hashes the first gzip member of a log file as the CLI does (zlib in gzip mode, fed in
// chunks): a stream cut short is not an error there, the data read so far is hashed, so
// truncated reports it; trailing reports bytes after the member, which the CLI ignores. err is
// a header, data or checksum error (the CLI's "invalid format").
//
// A complete, intact member is inflated with klauspost/compress's reader (faster than the
// standard library's); anything else (a stream cut short, corrupt data) is read again with the
// standard library's reader, as it always was: how much of a cut stream a reader hands out
// differs between readers, and hashlog_test.go compares the standard library's with the CLI's.
func hashLog(body []byte) (hash string, truncated, trailing bool, err error) {
	// zlib rejects a wrong magic number, method or reserved flag as soon as it sees the byte;
	// Go's readers want a whole header first, and ignore the reserved flags.
	for i, want := range []byte{0x1f, 0x8b, 8} {
		if i < len(body) && body[i] != want {
			return "", false, false, gzip.ErrHeader
		}
	}
	if len(body) > 3 && body[3]&0xe0 != 0 {
		return "", false, false, gzip.ErrHeader
	}
	if hash, trailing, ok := hashComplete(body); ok {
		return hash, false, trailing, nil
	}
	h := sha256.New()
	br := bytes.NewReader(body)
	zr, err := gzip.NewReader(br)
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return hex.EncodeToString(h.Sum(nil)), true, false, nil
	case err != nil:
		return "", false, false, err
	}
	zr.Multistream(false)
	_, err = io.Copy(h, zr)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		truncated = true
	case err != nil:
		return "", false, false, err
	}
	return hex.EncodeToString(h.Sum(nil)), truncated, br.Len() > 0, nil
}

// inflater is a reusable gzip reader and hash.
type inflater struct {
	br bytes.Reader
	zr kgzip.Reader
	h  hash.Hash
}

var inflaters = sync.Pool{New: func() any { return &inflater{h: sha256.New()} }}

// hashComplete hashes the first gzip member of body if it is complete and intact (checksum and
// length included); ok is false otherwise.
func hashComplete(body []byte) (hash string, trailing, ok bool) {
	in := inflaters.Get().(*inflater)
	defer func() {
		in.br.Reset(nil) // keep no body alive in the pool
		inflaters.Put(in)
	}()
	in.br.Reset(body)
	if in.zr.Reset(&in.br) != nil {
		return "", false, false
	}
	in.zr.Multistream(false)
	in.h.Reset()
	if _, err := in.zr.WriteTo(in.h); err != nil {
		return "", false, false
	}
	var sum [sha256.Size]byte
	return hex.EncodeToString(in.h.Sum(sum[:0])), in.br.Len() > 0, true
}

// outOfChain reports, after the walk, the trail's listed digests the walk never reached and
// the log files of the account and source region that lie well inside the span the valid
// digests cover but that no valid digest lists.
func (r *runner) outOfChain(ctx context.Context, keys keySet) error {
	var orphans []objectID
	for id := range r.listed {
		if !r.visited[id] {
			orphans = append(orphans, id)
		}
	}
	sort.Slice(orphans, func(i, j int) bool {
		if orphans[i].bucket != orphans[j].bucket {
			return orphans[i].bucket < orphans[j].bucket
		}
		return orphans[i].key > orphans[j].key // newest first, as the walk goes
	})
	for _, id := range orphans {
		if err := r.emit(ctx, &entry{kind: entryDigest, invalid: true,
			line: digestLine(false, id.bucket, id.key, "INVALID: not in the chain of digests")}); err != nil {
			return err
		}
	}

	spans := mergeSpans(r.covered, time.Minute)
	if len(spans) == 0 {
		return nil
	}
	lo, hi := spans[0].start.Add(-time.Hour), spans[len(spans)-1].end.Add(2*time.Hour)
	if err := r.otherTrails(ctx, keys, lo, hi); err != nil {
		return err
	}
	// A log file's name carries its delivery minute; the digest listing it covers the
	// delivery time. Only files whose minute is an hour or more inside a covered span must be
	// listed: nearer an edge, a file may belong to a digest outside the walk.
	inside := func(t time.Time) bool {
		for _, s := range spans {
			if !t.Add(-time.Hour).Before(s.start) && !t.Add(time.Hour).After(s.end) {
				return true
			}
		}
		return false
	}
	logDir := r.logDir()
	nameRe := regexp.MustCompile("^" + regexp.QuoteMeta(r.o.Account+"_CloudTrail_"+r.o.SourceRegion+"_") + `(\d{8}T\d{4}Z)_[^/]+\.json\.gz$`)
	var unlisted []string
	for day := lo.Truncate(24 * time.Hour); !day.After(hi); day = day.Add(24 * time.Hour) {
		dir := logDir + day.Format("2006/01/02/")
		err := r.o.Store.List(ctx, r.o.Bucket, dir, "", func(obj blob.Object) error {
			m := nameRe.FindStringSubmatch(obj.Key[len(dir):])
			if m == nil {
				return nil
			}
			at, err := time.Parse("20060102T1504Z", m[1])
			if err != nil || !inside(at) || r.refLogs[objectID{r.o.Bucket, obj.Key}] {
				return nil
			}
			unlisted = append(unlisted, obj.Key)
			return nil
		})
		if err != nil && !errors.Is(err, blob.ErrBucketNotFound) {
			return err
		}
	}
	for _, key := range unlisted {
		if err := r.emit(ctx, &entry{kind: entryLog, invalid: true,
			line: "Log file\ts3://" + r.o.Bucket + "/" + key + "\tINVALID: not listed in any digest"}); err != nil {
			return err
		}
	}
	return nil
}

// logDir is the folder of the account's log files of the source region.
func (r *runner) logDir() string {
	dir := r.keyInfo(time.Time{}).Dir()
	return strings.TrimSuffix(dir, "CloudTrail-Digest/"+r.o.SourceRegion+"/") + "CloudTrail/" + r.o.SourceRegion + "/"
}

// otherTrails adds to the listed log files those of the validly signed digests of the
// region's other trails (and of this trail's digests the walk did not reach) delivered
// between lo and hi: several trails may deliver to one bucket and prefix.
func (r *runner) otherTrails(ctx context.Context, keys keySet, lo, hi time.Time) error {
	dir := r.keyInfo(time.Time{}).Dir()
	var ids []objectID
	for day := lo.Truncate(24 * time.Hour); !day.After(hi); day = day.Add(24 * time.Hour) {
		err := r.o.Store.List(ctx, r.o.Bucket, dir+day.Format("2006/01/02/"), "", func(obj blob.Object) error {
			k, err := digest.ParseKey(obj.Key)
			if err != nil || k.Prefix != r.o.Prefix || k.OrgID != r.o.OrgID || k.Account != r.o.Account || k.SourceRegion != r.o.SourceRegion ||
				k.End.Before(lo) || k.End.After(hi) {
				return nil
			}
			id := objectID{r.o.Bucket, obj.Key}
			if k.TrailName == r.o.Trail.Name && k.HomeRegion == r.o.Trail.HomeRegion && (r.visited[id] || r.listed[id]) {
				return nil
			}
			ids = append(ids, id)
			return nil
		})
		if err != nil {
			return err
		}
	}
	for _, id := range ids {
		r.prefetch(ctx, id)
	}
	for _, id := range ids {
		obj, err := r.fetch(ctx, id, true)
		if err != nil {
			if errors.Is(err, blob.ErrObjectNotFound) {
				continue
			}
			return err
		}
		raw, _, err := digest.Gunzip(obj.Body)
		if err != nil {
			continue
		}
		d, err := digest.Parse(raw)
		if err != nil || d.DigestS3Bucket != id.bucket || d.DigestS3Object != id.key {
			continue
		}
		pk, ok := keys[d.DigestPublicKeyFingerprint]
		if !ok {
			continue
		}
		pub, err := pk.RSA()
		if err != nil || digest.Verify(pub, d, raw, obj.Metadata[digest.MetaSignature]) != nil {
			continue
		}
		for _, lf := range d.LogFiles {
			r.refLogs[objectID{lf.S3Bucket, lf.S3Object}] = true
		}
	}
	return nil
}
