package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
)

func runAdmin(_ context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "create-bucket" {
		fmt.Fprintln(stderr, "usage: opentrail admin create-bucket --data-dir DIR NAME")
		return errors.New("unknown admin command")
	}
	fs := flag.NewFlagSet("admin create-bucket", flag.ContinueOnError)
	fs.SetOutput(stderr)
	dataDir := fs.String("data-dir", envDefault("OPENTRAIL_DATA_DIR", "./data"), "data directory (env OPENTRAIL_DATA_DIR)")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("create-bucket needs exactly one bucket name")
	}
	name := fs.Arg(0)
	if !bucketName.MatchString(name) {
		return fmt.Errorf("invalid bucket name %q: use 3-63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit", name)
	}
	dir := filepath.Join(*dataDir, "buckets", name)
	if _, err := os.Stat(dir); err == nil {
		return fmt.Errorf("bucket %s already exists", name)
	}
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return fmt.Errorf("create bucket: %w", err)
	}
	fmt.Fprintf(stdout, "created bucket %s in %s\n", name, dir)
	return nil
}

var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)
