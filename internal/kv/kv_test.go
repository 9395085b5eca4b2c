package kv

import (
	"errors"
	"testing"
)

func TestStore(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	type doc struct{ N int }
	for i, k := range []string{"a/1", "a/2", "a/3", "b/1"} {
		if err := s.Put(k, doc{i}); err != nil {
			t.Fatal(err)
		}
	}
	var d doc
	if err := s.Get("nope", &d); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get missing: %v", err)
	}
	b := s.NewBatch()
	b.Delete("a/2")
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	var keys []string
	if err := s.Scan("a/", func(k string, _ []byte) error { keys = append(keys, k); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(keys) != 2 || keys[0] != "a/1" || keys[1] != "a/3" {
		t.Fatalf("scan a/ = %v", keys)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	s, err = Open(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Get("a/3", &d); err != nil || d.N != 2 {
		t.Fatalf("after reopen: %+v %v", d, err)
	}
	b = s.NewBatch()
	b.DeletePrefix("a/")
	if err := b.Commit(); err != nil {
		t.Fatal(err)
	}
	if err := s.Get("a/1", &d); !errors.Is(err, ErrNotFound) {
		t.Fatalf("DeletePrefix left a/1: %v", err)
	}
	if err := s.Get("b/1", &d); err != nil {
		t.Fatalf("DeletePrefix removed b/1: %v", err)
	}
}
