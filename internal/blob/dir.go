package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash/maphash"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"syscall"
)

// Names inside bucket directories that belong to Dir, not to objects. All begin with
// reservedPrefix, which no valid key segment does.
const (
	metaPrefix  = reservedPrefix + "meta." // sidecar of object <name>: .opentrail-meta.<name>
	tempPrefix  = reservedPrefix + "tmp-"  // a Put in progress (or one cut short by a crash)
	probePrefix = reservedPrefix + "write-check-"

	// maxDirSegment is the longest key segment Dir stores: the file-name limit of Linux file
	// systems (255 bytes) less the sidecar prefix.
	maxDirSegment = 255 - len(metaPrefix)
)

// Dir keeps buckets as directories of a local root directory: bucket "b" is <root>/b/ and
// object key "x/y.json.gz" is the file <root>/b/x/y.json.gz; see the package comment for the
// whole layout. It is the default bucket store of `opentrail serve`. Its methods may be
// called concurrently.
type Dir struct {
	root string
	seed maphash.Seed
	// locks orders a Put's two renames (sidecar, then body) against Gets of the same key in
	// this process, so that a Get never pairs one Put's body with another's metadata.
	locks [64]sync.RWMutex
}

var _ Store = (*Dir)(nil)

// NewDir returns the bucket store rooted at root. The root is created by the first
// CreateBucket; until then every bucket is missing.
func NewDir(root string) *Dir { return &Dir{root: root, seed: maphash.MakeSeed()} }

// Root is the directory that holds the buckets.
func (d *Dir) Root() string { return d.root }

// bucketPath is the directory of a bucket whose name has been validated.
func (d *Dir) bucketPath(bucket string) (string, error) {
	if !ValidBucketName(bucket) {
		return "", fmt.Errorf("%w: %q", ErrInvalidBucketName, bucket)
	}
	return filepath.Join(d.root, bucket), nil
}

// openBucket validates the bucket name and returns the bucket directory, after checking that
// it exists.
func (d *Dir) openBucket(bucket string) (string, error) {
	bp, err := d.bucketPath(bucket)
	if err != nil {
		return "", err
	}
	fi, err := os.Stat(bp)
	if err != nil {
		return "", bucketErr(bucket, "open bucket", err)
	}
	if !fi.IsDir() {
		return "", fmt.Errorf("%w: %s (not a directory)", ErrBucketNotFound, bucket)
	}
	return bp, nil
}

// openObject is openBucket for a method that takes a key, which it validates too.
func (d *Dir) openObject(bucket, key string) (string, error) {
	if !ValidBucketName(bucket) {
		return "", fmt.Errorf("%w: %q", ErrInvalidBucketName, bucket)
	}
	if err := checkDirKey(key); err != nil {
		return "", err
	}
	return d.openBucket(bucket)
}

// checkDirKey is CheckKey plus Dir's own limit on segment length.
func checkDirKey(key string) error {
	if err := CheckKey(key); err != nil {
		return err
	}
	for seg := range strings.SplitSeq(key, "/") {
		if len(seg) > maxDirSegment {
			return fmt.Errorf("%w %q: path segment longer than %d bytes (a local bucket's limit)", ErrInvalidKey, truncate(key), maxDirSegment)
		}
	}
	return nil
}

// objectPath is the file of a valid key in bucket directory bp, and sidecarPath its metadata.
func objectPath(bp, key string) string { return filepath.Join(bp, filepath.FromSlash(key)) }

func sidecarPath(objPath string) string {
	return filepath.Join(filepath.Dir(objPath), metaPrefix+filepath.Base(objPath))
}

// bucketErr turns a file-system error on a bucket directory into ErrBucketNotFound or
// ErrAccessDenied where it is one of those.
func bucketErr(bucket, op string, err error) error {
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("%w: %s", ErrBucketNotFound, bucket)
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w: %s: %s: %v", ErrAccessDenied, bucket, op, err)
	}
	return fmt.Errorf("%s %s: %w", op, bucket, err)
}

func (d *Dir) lock(bucket, key string) *sync.RWMutex {
	return &d.locks[maphash.String(d.seed, bucket+"/"+key)%uint64(len(d.locks))]
}

// CreateBucket creates an empty bucket. It fails with ErrBucketExists if the bucket is there
// already and ErrInvalidBucketName if the name breaks the S3 naming rules.
func (d *Dir) CreateBucket(ctx context.Context, bucket string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := d.bucketPath(bucket)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(d.root, 0o750); err != nil {
		return fmt.Errorf("create bucket root %s: %w", d.root, err)
	}
	if err := os.Mkdir(p, 0o750); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s", ErrBucketExists, bucket)
		}
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	if err := syncDir(d.root); err != nil {
		return fmt.Errorf("create bucket %s: %w", bucket, err)
	}
	return nil
}

// CheckWritable proves that objects can be written to bucket by writing a small probe object
// and removing it again. It fails with ErrBucketNotFound when the bucket does not exist,
// ErrAccessDenied when the directory refuses the write, and ErrInvalidBucketName for a name
// that breaks the S3 naming rules.
func (d *Dir) CheckWritable(ctx context.Context, bucket string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	p, err := d.openBucket(bucket)
	if err != nil {
		return err
	}
	probe := filepath.Join(p, probePrefix+randomHex())
	f, err := os.OpenFile(probe, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return bucketErr(bucket, "write check object", err)
	}
	_, werr := f.Write([]byte("OpenTrail write check\n"))
	cerr := f.Close()
	rerr := os.Remove(probe)
	if err := errors.Join(werr, cerr); err != nil {
		return bucketErr(bucket, "write check object", err)
	}
	if rerr != nil {
		return fmt.Errorf("remove check object from bucket %s: %w", bucket, rerr)
	}
	return nil
}

// sidecar is the content of a metadata sidecar file.
type sidecar struct {
	ContentType string            `json:"contentType,omitempty"`
	Metadata    map[string]string `json:"metadata,omitempty"`
}

// Put writes the object atomically and durably: body (and, if there is any, metadata) go to
// temporary files in the object's directory, which are synced and renamed into place, sidecar
// first; then the directory is synced. Missing parent directories are created (and their
// parents synced). ServerSideEncryption is ignored.
func (d *Dir) Put(ctx context.Context, bucket, key string, body []byte, opts PutOptions) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	bp, err := d.openObject(bucket, key)
	if err != nil {
		return err
	}
	meta, err := normalizeMetadata(opts.Metadata)
	if err != nil {
		return err
	}
	var sc []byte
	if len(meta) > 0 || opts.ContentType != "" {
		if sc, err = json.Marshal(sidecar{ContentType: opts.ContentType, Metadata: meta}); err != nil {
			return fmt.Errorf("put %s/%s: %w", bucket, key, err)
		}
	}
	obj := objectPath(bp, key)
	dir := filepath.Dir(obj)
	// The temporary files go into the object's directory, which is made when missing: at
	// first, or again when a concurrent Delete removed it for being empty.
	var tmpBody, tmpMeta string
	for attempt := 0; ; attempt++ {
		if tmpBody, err = writeTemp(dir, body); err == nil && sc != nil {
			if tmpMeta, err = writeTemp(dir, sc); err != nil {
				_ = os.Remove(tmpBody)
			}
		}
		if err == nil || !errors.Is(err, fs.ErrNotExist) || attempt == 10 {
			break
		}
		if err = mkdirs(bp, dir); err != nil {
			break
		}
	}
	if err != nil {
		return putErr(bucket, key, bp, err)
	}
	err = d.publish(bucket, key, obj, tmpBody, tmpMeta)
	if err != nil {
		_ = os.Remove(tmpBody)
		if tmpMeta != "" {
			_ = os.Remove(tmpMeta)
		}
		return putErr(bucket, key, bp, err)
	}
	if err := syncDir(dir); err != nil {
		return putErr(bucket, key, bp, err)
	}
	return nil
}

// publish renames a Put's temporary files into place, sidecar first, so that a new object is
// never visible without its metadata. A crash between the two renames leaves, for a new key,
// a sidecar without an object (invisible, replaced by the next Put), and for an existing one,
// the new metadata beside the old body until the Put is retried.
func (d *Dir) publish(bucket, key, obj, tmpBody, tmpMeta string) error {
	mu := d.lock(bucket, key)
	mu.Lock()
	defer mu.Unlock()
	if fi, err := os.Lstat(obj); err == nil && fi.IsDir() {
		return fmt.Errorf("key %q is a prefix of other objects", key)
	}
	side := sidecarPath(obj)
	if tmpMeta != "" {
		if err := os.Rename(tmpMeta, side); err != nil {
			return err
		}
	} else if err := os.Remove(side); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return err
	}
	return os.Rename(tmpBody, obj)
}

func putErr(bucket, key, bp string, err error) error {
	if errors.Is(err, syscall.ENOTDIR) {
		return fmt.Errorf("put %s/%s: a prefix of the key is an object: %w", bucket, key, err)
	}
	if errors.Is(err, fs.ErrPermission) {
		return fmt.Errorf("%w: %s: put %s: %v", ErrAccessDenied, bucket, key, err)
	}
	if errors.Is(err, fs.ErrNotExist) {
		if _, serr := os.Stat(bp); serr != nil {
			return bucketErr(bucket, "put "+key, serr)
		}
	}
	return fmt.Errorf("put %s/%s: %w", bucket, key, err)
}

// normalizeMetadata lower-cases metadata names, as S3 does, and refuses names that cannot be
// HTTP header names.
func normalizeMetadata(m map[string]string) (map[string]string, error) {
	if len(m) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(m))
	for k, v := range m {
		if !validMetaName(k) {
			return nil, fmt.Errorf("blob: invalid metadata name %q", k)
		}
		out[strings.ToLower(k)] = v
	}
	return out, nil
}

// validMetaName reports whether name is an HTTP token (RFC 9110), so that x-amz-meta-<name>
// is a header name.
func validMetaName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// mkdirs creates dir and its missing parents below the existing bucket directory bp, syncing
// each parent that gained an entry. Unlike os.MkdirAll it never creates bp itself, so a Put
// into a deleted bucket fails.
func mkdirs(bp, dir string) error {
	rel, err := filepath.Rel(bp, dir)
	if err != nil || rel == "." {
		return err
	}
	p := bp
	for seg := range strings.SplitSeq(rel, string(filepath.Separator)) {
		parent := p
		p = filepath.Join(p, seg)
		err := os.Mkdir(p, 0o750)
		if err == nil {
			if err := syncDir(parent); err != nil {
				return err
			}
			continue
		}
		if !errors.Is(err, fs.ErrExist) {
			return err
		}
	}
	return nil
}

// writeTemp writes data to a new synced temporary file in dir and returns its path.
func writeTemp(dir string, data []byte) (string, error) {
	f, err := os.OpenFile(filepath.Join(dir, tempPrefix+randomHex()), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return "", err
	}
	_, err = f.Write(data)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(f.Name())
		return "", err
	}
	return f.Name(), nil
}

func syncDir(dir string) error {
	f, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = f.Sync()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

func randomHex() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	return hex.EncodeToString(b[:])
}

// Get reads an object and its metadata. It fails with ErrObjectNotFound if there is no object
// of that key (a key that is only a prefix of other objects included) and ErrBucketNotFound if
// there is no bucket.
func (d *Dir) Get(ctx context.Context, bucket, key string) (*Object, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	bp, err := d.openObject(bucket, key)
	if err != nil {
		return nil, err
	}
	obj := objectPath(bp, key)
	mu := d.lock(bucket, key)
	mu.RLock()
	defer mu.RUnlock()
	body, err := os.ReadFile(obj)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) || errors.Is(err, syscall.EISDIR) {
			if _, serr := os.Stat(bp); serr != nil {
				return nil, bucketErr(bucket, "get "+key, serr)
			}
			return nil, fmt.Errorf("%w: %s/%s", ErrObjectNotFound, bucket, key)
		}
		if errors.Is(err, fs.ErrPermission) {
			return nil, fmt.Errorf("%w: %s: get %s: %v", ErrAccessDenied, bucket, key, err)
		}
		return nil, fmt.Errorf("get %s/%s: %w", bucket, key, err)
	}
	o := &Object{Key: key, Size: int64(len(body)), Body: body}
	raw, err := os.ReadFile(sidecarPath(obj))
	switch {
	case errors.Is(err, fs.ErrNotExist):
	case err != nil:
		return nil, fmt.Errorf("get %s/%s: metadata: %w", bucket, key, err)
	default:
		var sc sidecar
		if err := json.Unmarshal(raw, &sc); err != nil {
			return nil, fmt.Errorf("get %s/%s: metadata: %w", bucket, key, err)
		}
		o.Metadata = sc.Metadata
	}
	return o, nil
}

// List walks the bucket's directory tree in the byte order of full keys, entering only the
// directories that can hold keys with prefix that sort after startAfter. It reports regular
// files only: internal files, directories, symbolic links and other special files are not
// objects. Metadata is always nil.
func (d *Dir) List(ctx context.Context, bucket, prefix, startAfter string, fn func(Object) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	bp, err := d.openBucket(bucket)
	if err != nil {
		return err
	}
	return d.walk(ctx, bp, "", prefix, startAfter, fn)
}

// walk lists the directory dir, which holds the keys beginning with keyPrefix ("" or ending in
// '/').
func (d *Dir) walk(ctx context.Context, dir, keyPrefix, prefix, startAfter string, fn func(Object) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		if keyPrefix != "" && errors.Is(err, fs.ErrNotExist) {
			return nil // removed by a concurrent Delete
		}
		return fmt.Errorf("list %s: %w", dir, err)
	}
	// A directory's keys all begin with name+"/", so it sorts among its siblings as that.
	type entry struct {
		sortKey string
		e       fs.DirEntry
	}
	list := make([]entry, 0, len(entries))
	for _, e := range entries {
		name := e.Name()
		if strings.HasPrefix(name, reservedPrefix) {
			continue
		}
		k := keyPrefix + name
		if e.IsDir() {
			k += "/"
		} else if !e.Type().IsRegular() {
			continue
		}
		list = append(list, entry{k, e})
	}
	slices.SortFunc(list, func(a, b entry) int { return strings.Compare(a.sortKey, b.sortKey) })
	for _, en := range list {
		k := en.sortKey
		if en.e.IsDir() {
			// Enter only if some key below can start with prefix and sort after startAfter.
			if !strings.HasPrefix(k, prefix) && !strings.HasPrefix(prefix, k) {
				continue
			}
			if k <= startAfter && !strings.HasPrefix(startAfter, k) {
				continue
			}
			if err := d.walk(ctx, filepath.Join(dir, en.e.Name()), k, prefix, startAfter, fn); err != nil {
				return err
			}
			continue
		}
		if !strings.HasPrefix(k, prefix) || k <= startAfter {
			continue
		}
		fi, err := en.e.Info()
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed by a concurrent Delete
		}
		if err != nil {
			return fmt.Errorf("list %s: %w", k, err)
		}
		if err := fn(Object{Key: k, Size: fi.Size()}); err != nil {
			return err
		}
	}
	return nil
}

// Delete removes an object and its metadata, then the parent directories that this leaves
// empty (never the bucket directory), so that a key that was only a prefix can become an
// object again.
func (d *Dir) Delete(ctx context.Context, bucket, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	bp, err := d.openObject(bucket, key)
	if err != nil {
		return err
	}
	obj := objectPath(bp, key)
	mu := d.lock(bucket, key)
	mu.Lock()
	err = os.Remove(obj)
	if err == nil {
		if serr := os.Remove(sidecarPath(obj)); serr != nil && !errors.Is(serr, fs.ErrNotExist) {
			err = serr
		}
	}
	mu.Unlock()
	switch {
	case err == nil:
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, syscall.ENOTDIR), errors.Is(err, fs.ErrExist):
		return nil // no object; or a directory (a prefix of other objects), which Remove refuses
	case errors.Is(err, fs.ErrPermission):
		return fmt.Errorf("%w: %s: delete %s: %v", ErrAccessDenied, bucket, key, err)
	default:
		return fmt.Errorf("delete %s/%s: %w", bucket, key, err)
	}
	dir := filepath.Dir(obj)
	if err := syncDir(dir); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("delete %s/%s: %w", bucket, key, err)
	}
	for dir != bp {
		if os.Remove(dir) != nil {
			break // not empty (or gone): stop pruning
		}
		dir = filepath.Dir(dir)
	}
	return nil
}
