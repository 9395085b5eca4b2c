package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"

	"github.com/opentrail/opentrail/internal/blob"
	"github.com/opentrail/opentrail/internal/digest"
	"github.com/opentrail/opentrail/internal/history/lookupcmd"
	"github.com/opentrail/opentrail/internal/validate"
)

// exitError ends the process with code; a nil err means the command has reported everything
// already.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return ""
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// ExitCode is the process's exit status.
func (e *exitError) ExitCode() int { return e.code }

// cliMessage is an error worded as the AWS CLI words it.
type cliMessage string

func (m cliMessage) Error() string { return string(m) }

// Exit statuses of validate-logs, as the AWS CLI's: 1 when a file is INVALID, 252 for a usage
// error, 255 when the run is aborted.
const (
	exitInvalid = 1
	exitUsage   = 252
	exitAbort   = 255
)

type validateFlags struct {
	trailARN, start, end, bucket, prefix, accountID, orgID string
	verbose, strict, outOfChain, progress                  bool
	endpoint, region, profile                              string
	s3Endpoint, s3KeyID, s3Secret, s3Region, dataDir       string
	workers                                                int
	set                                                    map[string]bool
}

func parseValidateFlags(args []string, stderr io.Writer) (*validateFlags, error) {
	fs := flag.NewFlagSet("validate-logs", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: opentrail validate-logs --trail-arn ARN --start-time T [flags]

Validates a trail's log files and digest files as "aws cloudtrail validate-logs" does, with the
same output and exit status (0 valid, 1 any file INVALID, 255 aborted), and more strictly: the
hashes and signatures that chain digests together are checked, and digests and log files that
are in the bucket but on no chain are INVALID (--strict=false --out-of-chain=false for exactly
the CLI's checks). The trail and public keys come from the OpenTrail server (DescribeTrails,
ListPublicKeys) with the standard AWS credentials; the files from an S3 endpoint or a data
directory's buckets.

examples:
  opentrail validate-logs --trail-arn arn:aws:cloudtrail:us-east-1:123456789012:trail/main \
      --start-time 2026-01-01T00:00:00Z --data-dir /var/lib/opentrail
  opentrail validate-logs --trail-arn ... --start-time 2026-01-01 --s3-endpoint http://minio:9000 --verbose

flags:
`)
		fs.PrintDefaults()
	}
	f := &validateFlags{}
	endpoint := os.Getenv("OPENTRAIL_ENDPOINT")
	if endpoint == "" {
		endpoint = lookupcmd.DefaultEndpoint
	}
	fs.StringVar(&f.trailARN, "trail-arn", "", "ARN of the trail to validate (required)")
	fs.StringVar(&f.start, "start-time", "", "validate files delivered from this time on (required); times without a zone are UTC, and a zone is ignored, as the AWS CLI does")
	fs.StringVar(&f.end, "end-time", "", "validate files delivered up to this time (default now)")
	fs.StringVar(&f.bucket, "s3-bucket", "", "bucket the digests are in (default: the trail's, from DescribeTrails)")
	fs.StringVar(&f.prefix, "s3-prefix", "", "key prefix of the files; used only with --s3-bucket")
	fs.StringVar(&f.accountID, "account-id", "", "account whose files are validated (default: the trail's; required for organization trails)")
	fs.StringVar(&f.orgID, "org-id", "", "organization ID (o-...) of an organization trail")
	fs.BoolVar(&f.verbose, "verbose", false, "also print every valid file")
	fs.BoolVar(&f.strict, "strict", true, "check the digest chain's hashes and signatures and more (false: only the AWS CLI's checks)")
	fs.BoolVar(&f.outOfChain, "out-of-chain", true, "report digests and log files in the bucket that no valid digest chain covers")
	fs.BoolVar(&f.progress, "progress", false, "show progress on stderr (the default when stderr is a terminal)")
	fs.IntVar(&f.workers, "workers", 8, "files fetched and checked in parallel")
	fs.StringVar(&f.endpoint, "endpoint-url", endpoint, "OpenTrail server URL for DescribeTrails and ListPublicKeys (env OPENTRAIL_ENDPOINT)")
	fs.StringVar(&f.region, "region", "", "source region whose digests are validated (default: the trail's home region)")
	fs.StringVar(&f.profile, "profile", "", "AWS shared-config profile to take credentials from")
	fs.StringVar(&f.s3Endpoint, "s3-endpoint", "", "base URL of the S3-compatible endpoint holding the bucket (path-style)")
	fs.StringVar(&f.s3KeyID, "s3-access-key-id", "", "access key for --s3-endpoint (default: the AWS credentials)")
	fs.StringVar(&f.s3Secret, "s3-secret-access-key", "", "secret key for --s3-endpoint")
	fs.StringVar(&f.s3Region, "s3-region", "", "signing region for --s3-endpoint (default us-east-1)")
	fs.StringVar(&f.dataDir, "data-dir", "", "read buckets from <data-dir>/buckets, as opentrail serve keeps them, instead of --s3-endpoint")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	f.set = map[string]bool{}
	fs.Visit(func(fl *flag.Flag) { f.set[fl.Name] = true })
	switch {
	case fs.NArg() > 0:
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	case f.trailARN == "" || f.start == "":
		return nil, errors.New("the following arguments are required: --trail-arn, --start-time")
	case (f.s3Endpoint == "") == (f.dataDir == ""):
		return nil, errors.New("give exactly one of --s3-endpoint and --data-dir")
	case (f.s3KeyID == "") != (f.s3Secret == ""):
		return nil, errors.New("--s3-access-key-id and --s3-secret-access-key go together")
	case f.workers < 1:
		return nil, errors.New("--workers must be at least 1")
	}
	return f, nil
}

// runValidateLogs runs `opentrail validate-logs`.
func runValidateLogs(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	f, err := parseValidateFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return err
	}
	if err != nil {
		return &exitError{code: exitUsage, err: err}
	}
	// Aborts are reported as the AWS CLI reports them: a blank line, the message.
	abort := func(err error) error {
		fmt.Fprintf(stderr, "\n%v\n", err)
		return &exitError{code: exitAbort}
	}
	start, err := validate.ParseTime(f.start)
	if err != nil {
		return abort(err)
	}
	end := time.Now().UTC().Truncate(time.Second)
	if f.end != "" {
		if end, err = validate.ParseTime(f.end); err != nil {
			return abort(err)
		}
	}
	if start.After(end) {
		return abort(cliMessage("Invalid time range specified: start-time must occur before end-time"))
	}
	trail, err := validate.ParseTrailARN(f.trailARN)
	if err != nil {
		return abort(err)
	}
	srcRegion := f.region
	if srcRegion == "" {
		srcRegion = trail.HomeRegion
	}
	cfg, err := awsConfig(ctx, f.profile, srcRegion)
	if err != nil {
		return abort(err)
	}
	ct := cloudtrail.NewFromConfig(cfg, func(o *cloudtrail.Options) { o.BaseEndpoint = aws.String(f.endpoint) })

	o := validate.Options{
		Trail: trail, Bucket: f.bucket, Prefix: f.prefix, Account: f.accountID, SourceRegion: srcRegion,
		Start: start, End: end, Verbose: f.verbose, Strict: f.strict, OutOfChain: f.outOfChain, Workers: f.workers,
		Stdout: stdout, Stderr: stderr, Keys: publicKeys{ct},
	}
	if f.bucket == "" {
		t, err := describeTrail(ctx, ct, trail.ARN)
		if err != nil {
			return abort(err)
		}
		o.Bucket, o.Prefix = aws.ToString(t.S3BucketName), aws.ToString(t.S3KeyPrefix)
		if aws.ToBool(t.IsOrganizationTrail) {
			if f.accountID == "" {
				return abort(cliMessage("Missing required parameter for organization trail: '--account-id'"))
			}
			if f.orgID == "" {
				return abort(errors.New("an organization trail also needs --org-id (the o-... organization ID)"))
			}
			o.OrgID = f.orgID
		}
	}
	if o.Store, err = openBuckets(ctx, f, cfg); err != nil {
		return abort(err)
	}
	if f.progress || isTerminal(stderr) {
		o.Progress = stderr
		o.ProgressLines = !isTerminal(stderr)
	}
	res, err := validate.Run(ctx, o)
	if err != nil {
		return abort(err)
	}
	if code := res.ExitCode(); code != 0 {
		return &exitError{code: exitInvalid}
	}
	return nil
}

// awsConfig loads the standard AWS configuration (environment, profile) for region.
func awsConfig(ctx context.Context, profile, region string) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithEC2IMDSClientEnableState(imds.ClientDisabled),
		config.WithRegion(region),
	}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return aws.Config{}, fmt.Errorf("load AWS configuration: %w", err)
	}
	return cfg, nil
}

// describeTrail finds the trail as the AWS CLI does: DescribeTrails with no arguments (shadow
// trails included), the first trail with the ARN.
func describeTrail(ctx context.Context, ct *cloudtrail.Client, arn string) (*types.Trail, error) {
	out, err := ct.DescribeTrails(ctx, &cloudtrail.DescribeTrailsInput{})
	if err != nil {
		return nil, fmt.Errorf("DescribeTrails: %w", err)
	}
	for i := range out.TrailList {
		if aws.ToString(out.TrailList[i].TrailARN) == arn {
			return &out.TrailList[i], nil
		}
	}
	return nil, cliMessage("A trail could not be found for " + arn)
}

// openBuckets opens the store the trail's files are read from.
func openBuckets(ctx context.Context, f *validateFlags, cfg aws.Config) (validate.Store, error) {
	if f.dataDir != "" {
		dir := filepath.Join(f.dataDir, "buckets")
		if _, err := os.Stat(dir); err != nil {
			return nil, fmt.Errorf("--data-dir: %w", err)
		}
		return blob.NewDir(dir), nil
	}
	keyID, secret := f.s3KeyID, f.s3Secret
	if keyID == "" {
		if cfg.Credentials == nil {
			return nil, errors.New("--s3-endpoint: no AWS credentials; give --s3-access-key-id and --s3-secret-access-key")
		}
		c, err := cfg.Credentials.Retrieve(ctx)
		if err != nil {
			return nil, fmt.Errorf("--s3-endpoint: AWS credentials: %w", err)
		}
		keyID, secret = c.AccessKeyID, c.SecretAccessKey
	}
	return validate.NewS3Store(blob.S3Options{Endpoint: f.s3Endpoint, AccessKeyID: keyID, SecretAccessKey: secret, Region: f.s3Region}, f.workers)
}

// publicKeys is ListPublicKeys of the source region's server: one call per range, no paging,
// as the AWS CLI does.
type publicKeys struct{ ct *cloudtrail.Client }

func (p publicKeys) PublicKeys(ctx context.Context, start, end time.Time) ([]digest.PublicKey, error) {
	out, err := p.ct.ListPublicKeys(ctx, &cloudtrail.ListPublicKeysInput{StartTime: aws.Time(start), EndTime: aws.Time(end)})
	if err != nil {
		return nil, fmt.Errorf("ListPublicKeys: %w", err)
	}
	keys := make([]digest.PublicKey, 0, len(out.PublicKeyList))
	for _, k := range out.PublicKeyList {
		keys = append(keys, digest.PublicKey{Value: k.Value, Fingerprint: aws.ToString(k.Fingerprint),
			ValidityStart: aws.ToTime(k.ValidityStartTime), ValidityEnd: aws.ToTime(k.ValidityEndTime)})
	}
	return keys, nil
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
