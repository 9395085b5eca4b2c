// Package kv is OpenTrail's metadata store: an ordered key-value store on Pebble with synced
// writes, holding accounts, IAM entities, trails and consumer state. Values are JSON documents;
// keys are "/"-separated paths that start with the owning service and account, so a prefix scan
// lists one account's entities of one kind.
package kv

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"

	"github.com/cockroachdb/pebble/v2"
)

// ErrNotFound is returned by Get for a missing key.
var ErrNotFound = errors.New("kv: not found")

// Store is an open metadata store.
type Store struct {
	db *pebble.DB
}

// Open opens (or creates) the store in dir.
func Open(dir string, logger *slog.Logger) (*Store, error) {
	opts := &pebble.Options{Logger: pebbleLogger{logger}}
	db, err := pebble.Open(dir, opts)
	if err != nil {
		return nil, fmt.Errorf("open metadata store %s: %w", dir, err)
	}
	return &Store{db: db}, nil
}

// Sync makes every write committed so far durable, CommitUnsynced ones included.
func (s *Store) Sync() error {
	if err := s.db.LogData(nil, pebble.Sync); err != nil {
		return fmt.Errorf("kv sync: %w", err)
	}
	return nil
}

// Close flushes and closes the store.
func (s *Store) Close() error { return s.db.Close() }

// Get reads key into v (JSON). It returns ErrNotFound when the key is absent.
func (s *Store) Get(key string, v any) error {
	b, closer, err := s.db.Get([]byte(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("kv get %s: %w", key, err)
	}
	defer closer.Close()
	if err := json.Unmarshal(b, v); err != nil {
		return fmt.Errorf("kv decode %s: %w", key, err)
	}
	return nil
}

// GetRaw returns the bytes stored at key by Batch.PutRaw. It returns ErrNotFound when the
// key is absent.
func (s *Store) GetRaw(key string) ([]byte, error) {
	b, closer, err := s.db.Get([]byte(key))
	if errors.Is(err, pebble.ErrNotFound) {
		return nil, ErrNotFound
	}
	if err != nil {
		return nil, fmt.Errorf("kv get %s: %w", key, err)
	}
	defer closer.Close()
	return bytes.Clone(b), nil
}

// Put writes v (as JSON) at key, durably.
func (s *Store) Put(key string, v any) error { return s.put(key, v, (*Batch).Commit) }

// PutUnsynced writes v (as JSON) at key without waiting for the disk (see
// Batch.CommitUnsynced).
func (s *Store) PutUnsynced(key string, v any) error {
	return s.put(key, v, (*Batch).CommitUnsynced)
}

// put writes v at key in a batch of its own, committed with commit.
func (s *Store) put(key string, v any, commit func(*Batch) error) error {
	b := s.NewBatch()
	if err := b.Put(key, v); err != nil {
		b.b.Close()
		return err
	}
	return commit(b)
}

// Delete removes key, durably. Deleting a missing key is not an error.
func (s *Store) Delete(key string) error {
	b := s.NewBatch()
	b.Delete(key)
	return b.Commit()
}

// Scan calls fn with every key that starts with prefix, in key order, and its raw JSON value.
// fn must not keep value after it returns. Returning a non-nil error from fn stops the scan.
func (s *Store) Scan(prefix string, fn func(key string, value []byte) error) error {
	p := []byte(prefix)
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: p, UpperBound: prefixEnd(p)})
	if err != nil {
		return fmt.Errorf("kv scan %s: %w", prefix, err)
	}
	for it.First(); it.Valid(); it.Next() {
		if err := fn(string(it.Key()), it.Value()); err != nil {
			it.Close()
			return err
		}
	}
	if err := it.Error(); err != nil {
		it.Close()
		return fmt.Errorf("kv scan %s: %w", prefix, err)
	}
	return it.Close()
}

// Batch is a set of writes committed atomically.
type Batch struct {
	b *pebble.Batch
}

// NewBatch starts a batch.
func (s *Store) NewBatch() *Batch { return &Batch{b: s.db.NewBatch()} }

// Put adds a write of v (JSON) at key.
func (b *Batch) Put(key string, v any) error {
	raw, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("kv encode %s: %w", key, err)
	}
	return b.b.Set([]byte(key), raw, nil)
}

// PutRaw adds a write of raw bytes at key (read them back with GetRaw, not Get).
func (b *Batch) PutRaw(key string, value []byte) {
	_ = b.b.Set([]byte(key), value, nil)
}

// Delete adds a deletion of key.
func (b *Batch) Delete(key string) { _ = b.b.Delete([]byte(key), nil) }

// DeletePrefix adds a deletion of every key starting with prefix.
func (b *Batch) DeletePrefix(prefix string) {
	p := []byte(prefix)
	_ = b.b.DeleteRange(p, prefixEnd(p), nil)
}

// Commit applies the batch durably (fsync).
func (b *Batch) Commit() error {
	defer b.b.Close()
	if err := b.b.Commit(pebble.Sync); err != nil {
		return fmt.Errorf("kv commit: %w", err)
	}
	return nil
}

// CommitUnsynced applies the batch without waiting for fsync. It survives the process being
// killed (it is in the operating system's cache) and becomes durable with the next Commit
// (the log is sequential) or flush; a machine crash before then may lose it. For writes that
// can be made again, such as a consumer's cursor over records that produced nothing: a busy
// server otherwise syncs this store for every batch, and the journal's fsync of every API
// call waits behind those syncs on the same disk.
func (b *Batch) CommitUnsynced() error {
	defer b.b.Close()
	if err := b.b.Commit(pebble.NoSync); err != nil {
		return fmt.Errorf("kv commit: %w", err)
	}
	return nil
}

func prefixEnd(p []byte) []byte {
	end := bytes.Clone(p)
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

type pebbleLogger struct{ l *slog.Logger }

func (p pebbleLogger) Infof(format string, args ...any) {
	if p.l != nil {
		p.l.Debug(fmt.Sprintf(format, args...), "component", "pebble")
	}
}

func (p pebbleLogger) Errorf(format string, args ...any) {
	if p.l != nil {
		p.l.Error(fmt.Sprintf(format, args...), "component", "pebble")
	}
}

func (p pebbleLogger) Fatalf(format string, args ...any) {
	msg := fmt.Sprintf(format, args...)
	if p.l != nil {
		p.l.Error(msg, "component", "pebble")
	}
	panic(msg)
}
