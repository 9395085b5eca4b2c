// Package readahead reads a journal ahead of its consumer: a goroutine calls the source's
// Next and hands the records over a buffered channel, so that a consumer can wait for a
// record and for a timer (a delivery interval, a batching window) at once.
package readahead

import "context"

// Source is the journal as a consumer reads it: records in sequence order, waiting at the
// end for new ones (journal.Reader through a small adapter).
type Source interface {
	Next(ctx context.Context) (seq uint64, payload []byte, err error)
}

// Item is one record, or the error that ended reading (the last item sent).
type Item struct {
	Seq     uint64
	Payload []byte
	Err     error
}

// Start reads src in a goroutine, up to n records ahead, until Next fails (that error is
// sent as the last item) or ctx ends. stop ends the reading and waits for the goroutine; call
// it before src is closed.
func Start(ctx context.Context, src Source, n int) (items <-chan Item, stop func()) {
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan Item, n)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			seq, payload, err := src.Next(ctx)
			select {
			case ch <- Item{seq, payload, err}:
			case <-ctx.Done():
				return
			}
			if err != nil {
				return
			}
		}
	}()
	return ch, func() {
		cancel()
		<-done
	}
}
