package readahead

import (
	"context"
	"errors"
	"testing"
)

type countSource struct{ n, limit int }

func (c *countSource) Next(ctx context.Context) (uint64, []byte, error) {
	if c.n == c.limit {
		return 0, nil, errors.New("end")
	}
	c.n++
	return uint64(c.n), []byte{byte(c.n)}, nil
}

type blockingSource struct{}

func (blockingSource) Next(ctx context.Context) (uint64, []byte, error) {
	<-ctx.Done()
	return 0, nil, ctx.Err()
}

func TestStartDeliversInOrderThenTheError(t *testing.T) {
	items, stop := Start(context.Background(), &countSource{limit: 5}, 2)
	defer stop()
	for want := uint64(1); want <= 5; want++ {
		it := <-items
		if it.Err != nil || it.Seq != want || it.Payload[0] != byte(want) {
			t.Fatalf("item %+v, want seq %d", it, want)
		}
	}
	if it := <-items; it.Err == nil {
		t.Fatalf("item %+v after the last record, want the error", it)
	}
}

func TestStopEndsABlockedRead(t *testing.T) {
	_, stop := Start(context.Background(), blockingSource{}, 1)
	stop() // must return: the read is cancelled
}
