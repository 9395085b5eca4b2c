// Command events measures the latency from an API call to the EventBridge HTTP target it
// causes, through a real `opentrail serve`: the call (IAM CreateUser) is recorded in the
// journal, read by the event bus consumer, wrapped in the EventBridge envelope, matched against
// the rules of the default bus (one matching rule among -rules in all) and POSTed to an API
// destination whose endpoint is this program.
//
//	go build -o /tmp/ot ./cmd/opentrail && go run ./bench/events -bin /tmp/ot -rules 300 -calls 300
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/aws/aws-sdk-go-v2/service/iam"
)

const (
	account = "123456789012"
	akid    = "AKIABENCHEVENTS00001"
	secret  = "bench-events-secret-0123456789abcdefghijk"
)

func main() {
	bin := flag.String("bin", "./opentrail", "the opentrail binary")
	rules := flag.Int("rules", 300, "rules on the default bus (one of them matches)")
	calls := flag.Int("calls", 300, "CreateUser calls to time")
	gap := flag.Duration("gap", 20*time.Millisecond, "pause between calls")
	dir := flag.String("dir", os.TempDir(), "where the server's data directory goes")
	flag.Parse()
	if err := run(*bin, *dir, *rules, *calls, *gap); err != nil {
		fmt.Fprintln(os.Stderr, "events bench:", err)
		os.Exit(1)
	}
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

func run(bin, dir string, rules, calls int, gap time.Duration) error {
	work, err := os.MkdirTemp(dir, "bench-events-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(work)
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	cmd := exec.Command(bin, "serve", "--data-dir", filepath.Join(work, "data"), "--listen", addr, "--account-id", account,
		"--root-access-key-id", akid, "--root-secret-access-key", secret, "--log-level", "warn", "--regions", "us-east-1")
	cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
	if err := cmd.Start(); err != nil {
		return err
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()
	url := "http://" + addr
	for i := 0; ; i++ {
		if resp, err := http.Get(url + "/health"); err == nil {
			resp.Body.Close()
			break
		}
		if i > 500 {
			return errors.New("server did not start")
		}
		time.Sleep(20 * time.Millisecond)
	}

	hits := make(chan time.Time, 1000)
	hookAddr, err := freeAddr()
	if err != nil {
		return err
	}
	go func() {
		_ = http.ListenAndServe(hookAddr, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			at := time.Now()
			_, _ = io.Copy(io.Discard, r.Body)
			hits <- at
		}))
	}()

	cfg := aws.Config{Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider(akid, secret, ""), BaseEndpoint: aws.String(url), RetryMaxAttempts: 1}
	ctx := context.Background()
	eb := eventbridge.NewFromConfig(cfg)
	conn, err := eb.CreateConnection(ctx, &eventbridge.CreateConnectionInput{Name: aws.String("bench"), AuthorizationType: ebtypes.ConnectionAuthorizationTypeApiKey,
		AuthParameters: &ebtypes.CreateConnectionAuthRequestParameters{ApiKeyAuthParameters: &ebtypes.CreateConnectionApiKeyAuthRequestParameters{
			ApiKeyName: aws.String("X-Api-Key"), ApiKeyValue: aws.String("bench")}}})
	if err != nil {
		return err
	}
	dest, err := eb.CreateApiDestination(ctx, &eventbridge.CreateApiDestinationInput{Name: aws.String("bench"), ConnectionArn: conn.ConnectionArn,
		InvocationEndpoint: aws.String("http://" + hookAddr + "/"), HttpMethod: ebtypes.ApiDestinationHttpMethodPost})
	if err != nil {
		return err
	}
	// The rules: one matches CreateUser; the others are realistic CloudTrail rules that do not.
	// A bus holds at most 300 rules (AWS's quota, which this server applies); rules beyond it
	// are not created, and the bench reports how many there are.
	created := 0
	for i := 0; i < rules; i++ {
		name := fmt.Sprintf("r%04d", i)
		pattern := fmt.Sprintf(`{"source":["aws.iam"],"detail":{"eventName":["Other%d"],"userIdentity":{"type":[{"anything-but":"Root"}]}}}`, i)
		switch i % 4 {
		case 1:
			pattern = fmt.Sprintf(`{"source":["aws.ec2"],"detail":{"eventName":[{"prefix":"Run%d"}]}}`, i)
		case 2:
			pattern = fmt.Sprintf(`{"detail":{"sourceIPAddress":[{"cidr":"10.%d.0.0/16"}],"errorCode":[{"exists":true}]}}`, i%256)
		case 3:
			pattern = fmt.Sprintf(`{"source":[{"prefix":"aws.s"}],"detail":{"eventName":[{"wildcard":"*Bucket%d*"}]}}`, i)
		}
		if i == 0 {
			pattern = `{"source":["aws.iam"],"detail":{"eventName":["CreateUser"]}}`
		}
		if _, err := eb.PutRule(ctx, &eventbridge.PutRuleInput{Name: aws.String(name), EventPattern: aws.String(pattern)}); err != nil {
			var ae interface{ ErrorCode() string }
			if errors.As(err, &ae) && ae.ErrorCode() == "LimitExceededException" {
				break
			}
			return err
		}
		created++
	}
	if _, err := eb.PutTargets(ctx, &eventbridge.PutTargetsInput{Rule: aws.String("r0000"), Targets: []ebtypes.Target{{Id: aws.String("hook"), Arn: dest.ApiDestinationArn}}}); err != nil {
		return err
	}
	iamc := iam.NewFromConfig(cfg)
	var lat []time.Duration
	for i := 0; i < calls; i++ {
		start := time.Now()
		if _, err := iamc.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String(fmt.Sprintf("bench-%d", i))}); err != nil {
			return err
		}
		select {
		case at := <-hits:
			lat = append(lat, at.Sub(start))
		case <-time.After(30 * time.Second):
			return fmt.Errorf("call %d: no delivery", i)
		}
		time.Sleep(gap)
	}
	slices.Sort(lat)
	q := func(p float64) time.Duration { return lat[min(len(lat)-1, int(p*float64(len(lat))))] }
	fmt.Printf("rules on the default bus: %d; calls: %d\n", created, calls)
	fmt.Printf("CreateUser call to HTTP target: p50 %v  p90 %v  p99 %v  max %v\n",
		q(0.50).Round(10*time.Microsecond), q(0.90).Round(10*time.Microsecond), q(0.99).Round(10*time.Microsecond), lat[len(lat)-1].Round(10*time.Microsecond))
	return nil
}
