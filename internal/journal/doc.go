// Package journal is OpenTrail's write-ahead log: the durable, ordered, append-only log that
// every captured CloudTrail record goes through before the API response is written.
// Consumers (Event History, trail delivery, the logs forwarder, the event bus, the Lake
// writer, Insights) tail it from durable cursors.
//
// # Usage
//
//	j, err := journal.Open(dir, journal.Options{Logger: logger})
//	...
//	seq, err := j.Append(ctx, record) // returns once the record is fsynced
//	if errors.Is(err, journal.ErrUnavailable) {
//		// not recorded: answer with a 503-class AWS error
//	}
//
//	// A consumer:
//	from, err := j.Cursor("delivery")
//	r := j.NewReader(from + 1)
//	defer r.Close()
//	for {
//		rec, err := r.Next(ctx) // waits for new records
//		...
//		err = j.SetCursor("delivery", rec.Seq) // after the output is durable
//	}
//
// # Durability
//
// Append and AppendBatch return a sequence number only after the record's bytes are fsynced.
// A single writer goroutine takes every queued append, encodes them into one buffer and
// commits them with one write and one fsync (group commit), so concurrent callers share the
// cost of an fsync. Sequence numbers start at 1 and increase by one without gaps. Readers see
// a record only after it is committed. An append that returns an error is not in the journal
// and never will be; an append interrupted by a crash may or may not be.
//
// When a write or fsync fails, every append of the commit group gets an error wrapping
// ErrUnavailable, and the segment is truncated back to its committed size (and fsynced)
// before they are told. If that rollback fails too, the journal refuses writes and retries the
// rollback before the next commit group, so it recovers by itself once the disk works again.
//
// # Files
//
// The journal directory holds segment files named after the sequence number of their first
// record (00000000000000000001.seg), a cursors/ directory with one 16-byte file per consumer,
// and a LOCK file. A segment is a sequence of frames, little-endian:
//
//	+---------------+---------------+-------------------+----------------------+
//	| length uint32 | crc32c uint32 | seq uint64        | payload (length B)   |
//	+---------------+---------------+-------------------+----------------------+
//	  0               4               8                   16
//
// The CRC is CRC-32C (Castagnoli) of bytes 8 to 16+length: the sequence number and the
// payload. docs/journal.md describes the format byte by byte, with recovery and failure rules.
//
// # Recovery
//
// Open checks every record (Options.SkipVerify limits this to the last segment). In the last
// segment, the first bad record and everything after it are a torn tail from a crash and are
// truncated away, unless a good record follows more than MaxBatchBytes further on, which a
// crash cannot produce. Damage anywhere else is a *CorruptionError, never skipped.
package journal
