// Command opentrail is OpenTrail's one binary: the server and the tools around it.
//
//	opentrail serve                    start the server (embedded storage in --data-dir)
//	opentrail admin create-bucket      create a local-directory bucket
//	opentrail lookup                   look up Event History through the public API
//	opentrail validate-logs            validate a trail's log files and digests (like aws cloudtrail validate-logs)
//	opentrail version                  print the version
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime"
	"syscall"
)

// version is set at build time with -ldflags "-X main.version=...".
var version = "dev"

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if len(os.Args) > 1 && os.Args[1] == "serve" {
		setServeProcs()
	}
	if err := run(ctx, os.Args[1:], os.Stdout, os.Stderr); err != nil {
		code := 1
		var ec interface{ ExitCode() int } // commands with their own exit statuses
		if errors.As(err, &ec) {
			code = ec.ExitCode()
		}
		if msg := err.Error(); msg != "" && !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(os.Stderr, "opentrail:", msg)
		}
		os.Exit(code)
	}
}

// minServeProcs is the least GOMAXPROCS the server runs with (see setServeProcs).
const minServeProcs = 4

// setServeProcs raises GOMAXPROCS to at least minServeProcs unless the GOMAXPROCS
// environment variable sets it. On a machine with few cores, the server's CPU-bound
// background work (Event History's indexing and compactions) can hold every P, and Go
// preempts a running goroutine only after 10 ms, so a request that becomes runnable waits
// that long; with more Ps than cores the kernel shares the cores among the threads in
// shorter slices. Measured on the 2-core VM (bench/RESULTS.md, authenticated calls): p99 at
// half load 47 ms with 2 Ps, 13.6 ms with 4.
func setServeProcs() {
	if os.Getenv("GOMAXPROCS") == "" && runtime.GOMAXPROCS(0) < minServeProcs {
		runtime.GOMAXPROCS(minServeProcs)
	}
}

const usage = `usage: opentrail <command> [flags]

commands:
  serve                 start the server
  admin create-bucket   create a local-directory bucket in a data directory
  lookup                look up Event History (like aws cloudtrail lookup-events)
  validate-logs         validate log files and digests (like aws cloudtrail validate-logs)
  version               print the version

Run "opentrail <command> -h" for a command's flags.
`

func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) == 0 {
		fmt.Fprint(stderr, usage)
		return errors.New("no command given")
	}
	switch args[0] {
	case "serve":
		return runServe(ctx, args[1:], stdout, stderr)
	case "admin":
		return runAdmin(ctx, args[1:], stdout, stderr)
	case "lookup":
		return runLookup(ctx, args[1:], stdout, stderr)
	case "validate-logs":
		return runValidateLogs(ctx, args[1:], stdout, stderr)
	case "version", "--version", "-version":
		fmt.Fprintln(stdout, "opentrail", version)
		return nil
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	}
	fmt.Fprint(stderr, usage)
	return fmt.Errorf("unknown command %q", args[0])
}

// envDefault returns the environment variable's value, or def.
func envDefault(name, def string) string {
	if v, ok := os.LookupEnv(name); ok {
		return v
	}
	return def
}
