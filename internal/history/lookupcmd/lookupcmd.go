// Package lookupcmd is the `opentrail lookup` command: it looks up Event History in a running
// OpenTrail server through the public CloudTrail API (LookupEvents, with aws-sdk-go-v2 and
// the standard AWS credential chain), like `aws cloudtrail lookup-events`, and prints the
// events as a table or as the CLI's JSON.
package lookupcmd

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/feature/ec2/imds"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail"
	"github.com/aws/aws-sdk-go-v2/service/cloudtrail/types"
)

// DefaultEndpoint is the server address used when neither --endpoint-url nor
// OPENTRAIL_ENDPOINT is set.
const DefaultEndpoint = "http://127.0.0.1:8470"

// progressEvery is how many pages pass between progress lines on stderr.
const progressEvery = 10

// options are the parsed flags.
type options struct {
	endpoint, region, profile string
	start, end                time.Time
	attr                      *types.LookupAttribute
	category                  string
	max                       int
	pageSize                  int
	output                    string
	nextToken                 string
}

var attributeKeys = []string{"EventId", "EventName", "ReadOnly", "Username", "ResourceType", "ResourceName", "EventSource", "AccessKeyId"}

func parse(args []string, stderr io.Writer, now time.Time) (*options, error) {
	fs := flag.NewFlagSet("lookup", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, `usage: opentrail lookup [flags]

Looks up Event History (management events of the last 90 days) in a running OpenTrail server
through the CloudTrail LookupEvents API, newest first. Credentials come from the standard AWS
chain: AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, AWS_PROFILE or --profile, shared files.

examples:
  opentrail lookup --since 15m
  opentrail lookup --attribute Username=alice --max 200
  opentrail lookup --attribute EventName=DeleteTrail --start-time 2026-01-01T00:00:00Z --output json

flags:
`)
		fs.PrintDefaults()
	}
	o := &options{}
	endpoint := os.Getenv("OPENTRAIL_ENDPOINT")
	if endpoint == "" {
		endpoint = DefaultEndpoint
	}
	fs.StringVar(&o.endpoint, "endpoint-url", endpoint, "server URL (env OPENTRAIL_ENDPOINT)")
	fs.StringVar(&o.region, "region", "", "region whose Event History is read (default: AWS_REGION, the profile's region, or us-east-1)")
	fs.StringVar(&o.profile, "profile", "", "AWS shared-config profile to take credentials and region from")
	since := fs.Duration("since", 0, "look back this long, e.g. 15m or 24h (instead of --start-time)")
	startS := fs.String("start-time", "", "oldest event time, RFC 3339 (e.g. 2026-01-02T15:04:05Z)")
	endS := fs.String("end-time", "", "newest event time, RFC 3339")
	attr := fs.String("attribute", "", "one lookup attribute Key=Value; keys: "+strings.Join(attributeKeys, ", "))
	fs.StringVar(&o.category, "event-category", "", `"insight" to look up Insights events instead of management events`)
	fs.IntVar(&o.max, "max", 50, "most events to print in total, paging as needed; 0 for all")
	fs.IntVar(&o.pageSize, "page-size", 50, "events per LookupEvents call (1-50)")
	fs.StringVar(&o.output, "output", "table", "table or json")
	fs.StringVar(&o.nextToken, "starting-token", "", "continue from the NextToken of an earlier JSON output")
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected argument %q", fs.Arg(0))
	}
	if o.output != "table" && o.output != "json" {
		return nil, fmt.Errorf("--output must be table or json, not %q", o.output)
	}
	if o.max < 0 {
		return nil, errors.New("--max must not be negative")
	}
	if o.pageSize < 1 || o.pageSize > 50 {
		return nil, errors.New("--page-size must be between 1 and 50")
	}
	if *since < 0 {
		return nil, errors.New("--since must be positive")
	}
	if *since > 0 && *startS != "" {
		return nil, errors.New("give --since or --start-time, not both")
	}
	var err error
	if *since > 0 {
		o.start = now.Add(-*since)
	}
	if *startS != "" {
		if o.start, err = time.Parse(time.RFC3339, *startS); err != nil {
			return nil, fmt.Errorf("--start-time: want RFC 3339 such as 2026-01-02T15:04:05Z: %w", err)
		}
	}
	if *endS != "" {
		if o.end, err = time.Parse(time.RFC3339, *endS); err != nil {
			return nil, fmt.Errorf("--end-time: want RFC 3339 such as 2026-01-02T15:04:05Z: %w", err)
		}
	}
	if !o.start.IsZero() && !o.end.IsZero() && o.start.After(o.end) {
		return nil, errors.New("the start time is after the end time")
	}
	if *attr != "" {
		k, v, ok := strings.Cut(*attr, "=")
		if !ok || v == "" {
			return nil, fmt.Errorf("--attribute must be Key=Value, got %q", *attr)
		}
		key := canonicalKey(k)
		if key == "" {
			return nil, fmt.Errorf("--attribute: unknown key %q; keys: %s", k, strings.Join(attributeKeys, ", "))
		}
		o.attr = &types.LookupAttribute{AttributeKey: types.LookupAttributeKey(key), AttributeValue: aws.String(v)}
	}
	return o, nil
}

// canonicalKey accepts attribute keys in any case ("username" gives "Username").
func canonicalKey(k string) string {
	for _, c := range attributeKeys {
		if strings.EqualFold(c, k) {
			return c
		}
	}
	return ""
}

// Run runs `opentrail lookup` with args (the flags after "lookup").
func Run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parse(args, stderr, time.Now())
	if err != nil {
		return err
	}
	client, err := newClient(ctx, o)
	if err != nil {
		return err
	}
	in := &cloudtrail.LookupEventsInput{EventCategory: types.EventCategory(o.category)}
	if o.attr != nil {
		in.LookupAttributes = []types.LookupAttribute{*o.attr}
	}
	if !o.start.IsZero() {
		in.StartTime = aws.Time(o.start)
	}
	if !o.end.IsZero() {
		in.EndTime = aws.Time(o.end)
	}
	if o.nextToken != "" {
		in.NextToken = aws.String(o.nextToken)
	}
	var events []types.Event
	pages := 0
	started := time.Now()
	for {
		size := o.pageSize
		if o.max > 0 {
			size = min(size, o.max-len(events))
		}
		in.MaxResults = aws.Int32(int32(size))
		out, err := client.LookupEvents(ctx, in)
		if err != nil {
			return fmt.Errorf("LookupEvents: %w", err)
		}
		pages++
		events = append(events, out.Events...)
		in.NextToken = out.NextToken
		if pages%progressEvery == 0 {
			fmt.Fprintf(stderr, "... %d events in %d pages (%s)\n", len(events), pages, time.Since(started).Round(time.Millisecond))
		}
		if in.NextToken == nil || (o.max > 0 && len(events) >= o.max) {
			break
		}
	}
	if o.output == "json" {
		return writeJSON(stdout, events, in.NextToken)
	}
	if err := writeTable(stdout, events); err != nil {
		return err
	}
	if in.NextToken != nil {
		fmt.Fprintf(stderr, "more events match: raise --max, or continue with --starting-token %s\n", *in.NextToken)
	}
	return nil
}

func newClient(ctx context.Context, o *options) (*cloudtrail.Client, error) {
	opts := []func(*config.LoadOptions) error{
		// OpenTrail is not EC2: never wait on the instance metadata service for credentials.
		config.WithEC2IMDSClientEnableState(imds.ClientDisabled),
	}
	if o.profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(o.profile))
	}
	if o.region != "" {
		opts = append(opts, config.WithRegion(o.region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return nil, fmt.Errorf("load AWS configuration: %w", err)
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	if cfg.Credentials == nil {
		return nil, errNoCredentials
	}
	if _, err := cfg.Credentials.Retrieve(ctx); err != nil {
		return nil, fmt.Errorf("%w (%v)", errNoCredentials, err)
	}
	return cloudtrail.NewFromConfig(cfg, func(co *cloudtrail.Options) {
		co.BaseEndpoint = aws.String(o.endpoint)
	}), nil
}

var errNoCredentials = errors.New("no AWS credentials found: set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, " +
	"or AWS_SHARED_CREDENTIALS_FILE=<data-dir>/root-credentials, or --profile")

// jsonEvent is an event as `aws cloudtrail lookup-events` prints it.
type jsonEvent struct {
	EventID         string         `json:"EventId,omitempty"`
	EventName       string         `json:"EventName,omitempty"`
	ReadOnly        string         `json:"ReadOnly,omitempty"`
	AccessKeyID     string         `json:"AccessKeyId,omitempty"`
	EventTime       string         `json:"EventTime,omitempty"`
	EventSource     string         `json:"EventSource,omitempty"`
	Username        string         `json:"Username,omitempty"`
	Resources       []jsonResource `json:"Resources"`
	CloudTrailEvent string         `json:"CloudTrailEvent,omitempty"`
}

type jsonResource struct {
	ResourceType string `json:"ResourceType,omitempty"`
	ResourceName string `json:"ResourceName,omitempty"`
}

func writeJSON(w io.Writer, events []types.Event, next *string) error {
	out := struct {
		Events    []jsonEvent `json:"Events"`
		NextToken string      `json:"NextToken,omitempty"`
	}{Events: make([]jsonEvent, 0, len(events)), NextToken: aws.ToString(next)}
	for _, e := range events {
		je := jsonEvent{
			EventID: aws.ToString(e.EventId), EventName: aws.ToString(e.EventName), ReadOnly: aws.ToString(e.ReadOnly),
			AccessKeyID: aws.ToString(e.AccessKeyId), EventSource: aws.ToString(e.EventSource), Username: aws.ToString(e.Username),
			CloudTrailEvent: aws.ToString(e.CloudTrailEvent), Resources: []jsonResource{},
		}
		if e.EventTime != nil {
			je.EventTime = e.EventTime.Local().Format(time.RFC3339)
		}
		for _, r := range e.Resources {
			je.Resources = append(je.Resources, jsonResource{aws.ToString(r.ResourceType), aws.ToString(r.ResourceName)})
		}
		out.Events = append(out.Events, je)
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "    ")
	enc.SetEscapeHTML(false)
	return enc.Encode(out)
}

func writeTable(w io.Writer, events []types.Event) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "TIME\tEVENT NAME\tUSER NAME\tEVENT SOURCE\tEVENT ID\tERROR")
	for _, e := range events {
		tm := ""
		if e.EventTime != nil {
			tm = e.EventTime.Local().Format(time.RFC3339)
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", tm, dash(aws.ToString(e.EventName)), dash(aws.ToString(e.Username)),
			dash(aws.ToString(e.EventSource)), dash(aws.ToString(e.EventId)), dash(errorCode(aws.ToString(e.CloudTrailEvent))))
	}
	return tw.Flush()
}

// errorCode reads the errorCode of a record.
func errorCode(record string) string {
	var r struct {
		ErrorCode string `json:"errorCode"`
	}
	_ = json.Unmarshal([]byte(record), &r)
	return r.ErrorCode
}

// dash keeps table columns aligned when a value is empty and strips characters that would
// break the table.
func dash(s string) string {
	if s == "" {
		return "-"
	}
	return strings.Map(func(r rune) rune {
		if r == '\t' || r == '\n' || r == '\r' || r < 0x20 {
			return ' '
		}
		return r
	}, s)
}
