package validate

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"math/rand/v2"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	kgzip "github.com/klauspost/compress/gzip"
)

// origHashLog is hashLog as first written, on the standard library's reader alone: hashLog
// must agree with it, except that it now also rejects reserved header flags, as zlib does.
func origHashLog(body []byte) (hash string, truncated, trailing bool, err error) {
	h := sha256.New()
	for i, want := range []byte{0x1f, 0x8b, 8} {
		if i < len(body) && body[i] != want {
			return "", false, false, gzip.ErrHeader
		}
	}
	br := bytes.NewReader(body)
	zr, err := gzip.NewReader(br)
	switch {
	case errors.Is(err, io.EOF):
		return hex.EncodeToString(h.Sum(nil)), true, false, nil
	case errors.Is(err, io.ErrUnexpectedEOF):
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

// sameAsOrig fails unless hashLog gives what origHashLog gives.
func sameAsOrig(t testing.TB, name string, body []byte) {
	t.Helper()
	gh, gt, gtr, gerr := hashLog(body)
	if len(body) > 3 && body[0] == 0x1f && body[1] == 0x8b && body[2] == 8 && body[3]&0xe0 != 0 {
		if gerr == nil {
			t.Errorf("%s: reserved header flags %#x accepted", name, body[3])
		}
		return
	}
	wh, wt, wtr, werr := origHashLog(body)
	if (werr == nil) != (gerr == nil) || wt != gt || wtr != gtr || wh != gh {
		t.Errorf("%s (%d bytes): hashLog = %.12s, truncated %v, trailing %v, err %v; the first version gives %.12s, %v, %v, %v",
			name, len(body), gh, gt, gtr, gerr, wh, wt, wtr, werr)
	}
}

// cliLogChecker runs the AWS CLI's own _download_log (testdata/cli_download_log.py) in one
// Python process for many log file bodies.
type cliLogChecker struct {
	mu  sync.Mutex
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

var (
	cliLogOnce sync.Once
	cliLog     *cliLogChecker
	cliLogErr  error
)

// startCLILogChecker starts the Python process once per test binary (it ends with it).
func startCLILogChecker(t *testing.T) *cliLogChecker {
	t.Helper()
	needCLI(t)
	cliLogOnce.Do(func() {
		cmd := exec.Command("python3", filepath.Join("testdata", "cli_download_log.py"))
		in, err := cmd.StdinPipe()
		if err != nil {
			cliLogErr = err
			return
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			cliLogErr = err
			return
		}
		if cliLogErr = cmd.Start(); cliLogErr == nil {
			cliLog = &cliLogChecker{cmd: cmd, in: in, out: bufio.NewReader(out)}
		}
	})
	if cliLogErr != nil {
		t.Fatal(cliLogErr)
	}
	return cliLog
}

// check is the CLI's verdict on a log file with body and the digest's hash want: "valid",
// "mismatch" or "format".
func (c *cliLogChecker) check(t testing.TB, body []byte, want string) string {
	t.Helper()
	c.mu.Lock()
	defer c.mu.Unlock()
	req := binary.BigEndian.AppendUint32(nil, uint32(64+len(body)))
	req = append(append(req, want...), body...)
	if _, err := c.in.Write(req); err != nil {
		t.Fatalf("cli_download_log.py: %v", err)
	}
	line, err := c.out.ReadString('\n')
	if err != nil {
		t.Fatalf("cli_download_log.py: %v", err)
	}
	return strings.TrimSpace(line)
}

// ourVerdict is what validate-logs reports for a log file without the strict checks.
func ourVerdict(body []byte, want string) (verdict string, truncated bool) {
	hash, truncated, _, err := hashLog(body)
	switch {
	case err != nil:
		return "format", truncated
	case hash == want:
		return "valid", truncated
	default:
		return "mismatch", truncated
	}
}

// sameAsCLI fails unless hashLog gives the AWS CLI's verdict on body, a log file whose
// digest lists the hash want, and agrees with origHashLog. One difference is known, and
// returned as true: of a stream cut a few bytes before its end, zlib may decode one more
// symbol than Go's reader, so the CLI may find the whole document (valid) where validate-logs
// does not (mismatch); the strict checks report such a file INVALID anyway.
func sameAsCLI(t testing.TB, c *cliLogChecker, name string, body []byte, want string) (known bool) {
	t.Helper()
	sameAsOrig(t, name, body)
	got, truncated := ourVerdict(body, want)
	cli := c.check(t, body, want)
	if got == cli {
		return false
	}
	if truncated && got == "mismatch" && cli == "valid" {
		return true
	}
	t.Errorf("%s (%d bytes): validate-logs says %s, the AWS CLI %s", name, len(body), got, cli)
	return false
}

// logSample is a gzip log file and the hash of its document.
type logSample struct {
	body []byte
	hash string
}

// logSamples are gzip log files as different writers make them: the standard library at
// several levels (stored blocks included), klauspost's writer, a header with every optional
// field, an empty document.
func logSamples() map[string]logSample {
	r := rand.New(rand.NewPCG(1, 2))
	var doc bytes.Buffer
	doc.WriteString(`{"Records":[`)
	for i := range 40 {
		if i > 0 {
			doc.WriteByte(',')
		}
		fmt.Fprintf(&doc, `{"eventVersion":"1.08","eventID":"%016x","eventName":"GetCallerIdentity","requestParameters":null,"n":%d}`, r.Uint64(), r.IntN(1e6))
	}
	doc.WriteString(`]}`)
	out := map[string]logSample{}
	add := func(name string, doc []byte, write func(w io.Writer, doc []byte)) {
		var b bytes.Buffer
		write(&b, doc)
		sum := sha256.Sum256(doc)
		out[name] = logSample{b.Bytes(), hex.EncodeToString(sum[:])}
	}
	for _, level := range []int{gzip.NoCompression, gzip.BestSpeed, gzip.DefaultCompression, gzip.HuffmanOnly} {
		add(fmt.Sprintf("std level %d", level), doc.Bytes(), func(w io.Writer, doc []byte) {
			zw, _ := gzip.NewWriterLevel(w, level)
			zw.Write(doc)
			zw.Close()
		})
	}
	add("klauspost", doc.Bytes(), func(w io.Writer, doc []byte) {
		zw := kgzip.NewWriter(w)
		zw.Write(doc)
		zw.Close()
	})
	add("header fields", doc.Bytes()[:300], func(w io.Writer, doc []byte) {
		zw := gzip.NewWriter(w)
		zw.Name, zw.Comment, zw.Extra = "log.json", "a comment", []byte("extra field")
		zw.Write(doc)
		zw.Close()
	})
	add("header CRC", doc.Bytes()[:200], func(w io.Writer, doc []byte) {
		// FHCRC: the CRC-16 of the header follows it. Go's writer never sets it.
		var b bytes.Buffer
		zw := gzip.NewWriter(&b)
		zw.Name = "crc"
		zw.Write(doc)
		zw.Close()
		z := b.Bytes()
		z[3] |= 0x02
		hdr := z[:10+len("crc")+1]
		crc := crc32.ChecksumIEEE(hdr)
		w.Write(hdr)
		w.Write([]byte{byte(crc), byte(crc >> 8)})
		w.Write(z[len(hdr):])
	})
	add("empty", nil, func(w io.Writer, doc []byte) {
		zw := gzip.NewWriter(w)
		zw.Close()
	})
	return out
}

// TestHashLogSameAsCLI compares hashLog with the AWS CLI's own log check on whole, cut,
// altered and extended log files.
func TestHashLogSameAsCLI(t *testing.T) {
	c := startCLILogChecker(t)
	known := 0
	for name, sm := range logSamples() {
		body := sm.body
		sameAsCLI(t, c, name, body, sm.hash)
		// Every position near the ends (headers, last blocks, trailer), some in between.
		near := func(i int) bool { return i < 64 || i >= len(body)-64 || i%7 == 0 }
		for n := range len(body) {
			if !near(n) {
				continue
			}
			if sameAsCLI(t, c, fmt.Sprintf("%s cut at %d", name, n), body[:n], sm.hash) {
				known++
				if n < len(body)-16 {
					t.Errorf("%s cut at %d of %d: the CLI finds the whole document", name, n, len(body))
				}
			}
		}
		for i := range body {
			if !near(i) {
				continue
			}
			for _, x := range []byte{0x01, 0x80, 0xff} {
				b := bytes.Clone(body)
				b[i] ^= x
				sameAsCLI(t, c, fmt.Sprintf("%s byte %d ^ %#x", name, i, x), b, sm.hash)
			}
		}
		sameAsCLI(t, c, name+" twice", append(bytes.Clone(body), body...), sm.hash)
		sameAsCLI(t, c, name+" and a zero", append(bytes.Clone(body), 0), sm.hash)
		sameAsCLI(t, c, name+" and garbage", append(bytes.Clone(body), "garbage"...), sm.hash)
	}
	empty := sha256.Sum256(nil)
	sameAsCLI(t, c, "nothing", nil, hex.EncodeToString(empty[:]))
	sameAsCLI(t, c, "plain", []byte("plain"), hex.EncodeToString(empty[:]))
	t.Logf("%d cuts at the very end where zlib decodes one more symbol than Go (the known difference)", known)
}

// FuzzHashLog: on any bytes hashLog agrees with origHashLog (its fast path and the standard
// library's reader agree). TestHashLogSameAsCLI compares both with the CLI.
func FuzzHashLog(f *testing.F) {
	for _, sm := range logSamples() {
		f.Add(sm.body)
		f.Add(sm.body[:len(sm.body)-5])
	}
	f.Fuzz(func(t *testing.T, body []byte) { sameAsOrig(t, "input", body) })
}
