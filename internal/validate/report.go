package validate

import (
	"context"
	"fmt"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

type entryKind int

const (
	entryDigest entryKind = iota // a digest's status line
	entryLog                     // a log file's status line, ready when done is closed
	entryGap                     // a gap notice
)

// entry is one line of the report, queued in the CLI's order.
type entry struct {
	kind     entryKind
	line     string
	invalid  bool
	backfill bool
	found    *span         // a valid digest's window, for "Results found for"
	done     chan struct{} // log files: closed when checked
	err      error         // log files: a storage error that aborts the run
}

// reporter writes the CLI's output: valid lines on stdout with --verbose, INVALID lines and
// gap notices on stderr followed by a blank line (and preceded by one after a stdout line),
// the summary on stdout.
type reporter struct {
	o        Options
	res      *Result
	double   bool // the CLI's _is_last_status_double_space
	progress *progress
}

func newReporter(o Options, res *Result) *reporter {
	p := &reporter{o: o, res: res, double: true}
	if o.Progress != nil {
		p.progress = &progress{w: o.Progress, lines: o.ProgressLines, interval: o.ProgressInterval}
		if p.progress.interval <= 0 {
			p.progress.interval = 200 * time.Millisecond
			if o.ProgressLines {
				p.progress.interval = time.Second
			}
		}
	}
	return p
}

func (p *reporter) write(w io.Writer, s string) {
	p.progress.lock()
	defer p.progress.unlock()
	_, _ = io.WriteString(w, s)
}

// status is the CLI's _write_status.
func (p *reporter) status(msg string, isErr bool) {
	if isErr {
		if p.double {
			p.write(p.o.Stderr, msg+"\n\n")
		} else {
			p.write(p.o.Stderr, "\n"+msg+"\n\n")
		}
		p.double = true
		return
	}
	if p.o.Verbose {
		p.double = false
		p.write(p.o.Stdout, msg+"\n")
	}
}

func (p *reporter) startup() {
	p.write(p.o.Stdout, fmt.Sprintf("Validating log files for trail %s between %s and %s\n\n",
		p.o.Trail.ARN, display(p.o.Start), display(p.o.End)))
}

// print writes the queued entries in order. A log file whose fetch failed with a storage
// error aborts the run: print cancels it, drains the queue and returns the error.
func (p *reporter) print(queue <-chan *entry, cancel context.CancelFunc) error {
	var abort error
	for e := range queue {
		if abort != nil {
			continue
		}
		if e.done != nil {
			<-e.done
		}
		if e.err != nil {
			abort = e.err
			cancel()
			continue
		}
		p.account(e)
		p.status(e.line, e.invalid || e.kind == entryGap)
	}
	return abort
}

// account counts an entry and tracks the span the valid digests cover (the CLI's
// _track_found_times: the earliest start, not before the range's, and the latest end, not
// after the range's).
func (p *reporter) account(e *entry) {
	r := p.res
	switch e.kind {
	case entryDigest:
		switch {
		case e.invalid && e.backfill:
			r.InvalidBackfillDigests++
		case e.invalid:
			r.InvalidDigests++
		case e.backfill:
			r.ValidBackfillDigests++
		default:
			r.ValidDigests++
		}
		if f := e.found; f != nil && !e.invalid {
			start := f.start
			if start.Before(p.o.Start) {
				start = p.o.Start
			}
			if r.FoundStart.IsZero() || start.Before(r.FoundStart) {
				r.FoundStart = start
			}
			end := f.end
			if end.After(p.o.End) {
				end = p.o.End
			}
			if r.FoundEnd.IsZero() || end.After(r.FoundEnd) {
				r.FoundEnd = end
			}
		}
	case entryLog:
		if e.invalid {
			r.InvalidLogs++
		} else {
			r.ValidLogs++
		}
	}
}

// summary is the CLI's _write_summary_text.
func (p *reporter) summary() {
	r := p.res
	w := p.o.Stdout
	if !p.double {
		p.write(w, "\n")
	}
	p.write(w, fmt.Sprintf("Results requested for %s to %s\n", display(p.o.Start), display(p.o.End)))
	valid, invalid := r.ValidDigests+r.ValidBackfillDigests, r.InvalidDigests+r.InvalidBackfillDigests
	if valid == 0 && invalid == 0 {
		p.write(w, "No digests found\n")
		return
	}
	if r.FoundStart.IsZero() || r.FoundEnd.IsZero() {
		p.write(w, "No valid digests found in range\n")
	} else {
		p.write(w, fmt.Sprintf("Results found for %s to %s:\n", display(r.FoundStart), display(r.FoundEnd)))
	}
	p.ratio(r.ValidDigests, r.InvalidDigests, "digest")
	p.ratio(r.ValidBackfillDigests, r.InvalidBackfillDigests, "backfill digest")
	p.ratio(r.ValidLogs, r.InvalidLogs, "log")
	p.write(w, "\n")
}

func (p *reporter) ratio(valid, invalid int, name string) {
	total := valid + invalid
	if total == 0 {
		return
	}
	s := fmt.Sprintf("\n%d/%d %s files valid", valid, total, name)
	if invalid > 0 {
		s += fmt.Sprintf(", %d/%d %s files INVALID", invalid, total, name)
	}
	p.write(p.o.Stdout, s)
}

// progress shows how far a run is. Its methods do nothing on a nil *progress.
type progress struct {
	w        io.Writer
	lines    bool
	interval time.Duration

	mu    sync.Mutex // serialises every write of the run while progress is shown
	shown bool       // a progress line is on the terminal

	digests, logsQueued, logsDone atomic.Int64
}

func (p *progress) lock() {
	if p == nil {
		return
	}
	p.mu.Lock()
	if p.shown {
		_, _ = io.WriteString(p.w, "\r\033[K")
		p.shown = false
	}
}

func (p *progress) unlock() {
	if p != nil {
		p.mu.Unlock()
	}
}

func (p *progress) digestDone() {
	if p != nil {
		p.digests.Add(1)
	}
}

func (p *progress) logQueued() {
	if p != nil {
		p.logsQueued.Add(1)
	}
}

func (p *progress) logDone() {
	if p != nil {
		p.logsDone.Add(1)
	}
}

func (p *progress) text() string {
	return fmt.Sprintf("validate-logs: %d digest files, %d/%d log files checked", p.digests.Load(), p.logsDone.Load(), p.logsQueued.Load())
}

// run shows progress every interval until stop is called; in lines mode stop writes a last
// line.
func (p *progress) run() (stop func()) {
	if p == nil {
		return func() {}
	}
	quit := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		t := time.NewTicker(p.interval)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
				p.mu.Lock()
				if p.lines {
					_, _ = io.WriteString(p.w, p.text()+"\n")
				} else {
					_, _ = io.WriteString(p.w, "\r\033[K"+p.text())
					p.shown = true
				}
				p.mu.Unlock()
			}
		}
	}()
	var once sync.Once
	return func() {
		once.Do(func() {
			close(quit)
			wg.Wait()
			if p.lines {
				p.mu.Lock()
				_, _ = io.WriteString(p.w, p.text()+"\n")
				p.mu.Unlock()
			}
			p.clear()
		})
	}
}

// clear removes a progress line from the terminal.
func (p *progress) clear() {
	p.lock()
	p.unlock()
}
