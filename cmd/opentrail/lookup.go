package main

import (
	"context"
	"io"

	"github.com/opentrail/opentrail/internal/history/lookupcmd"
)

// runLookup runs `opentrail lookup`: Event History through the public LookupEvents API of a
// running server (see internal/history/lookupcmd for the flags).
func runLookup(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	return lookupcmd.Run(ctx, args, stdout, stderr)
}
