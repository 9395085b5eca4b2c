package sns

import (
	"bufio"
	"context"
	"io"
	"mime"
	"mime/quotedprintable"
	"net"
	"net/textproto"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awssns "github.com/aws/aws-sdk-go-v2/service/sns"
)

// mailMsg is one message the fake relay accepted.
type mailMsg struct {
	from, to string
	header   textproto.MIMEHeader
	body     string
}

// fakeRelay is a minimal SMTP server: it accepts every message (or refuses recipients with
// rcptCode) and hands them to got.
type fakeRelay struct {
	ln       net.Listener
	got      chan mailMsg
	rcptCode atomic.Int32
}

func newFakeRelay(t *testing.T) *fakeRelay {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &fakeRelay{ln: ln, got: make(chan mailMsg, 10)}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.serve(c)
		}
	}()
	return r
}

func (r *fakeRelay) serve(c net.Conn) {
	defer c.Close()
	tp := textproto.NewConn(c)
	_ = tp.PrintfLine("220 fake ESMTP")
	var m mailMsg
	for {
		line, err := tp.ReadLine()
		if err != nil {
			return
		}
		cmd := strings.ToUpper(line)
		switch {
		case strings.HasPrefix(cmd, "EHLO"), strings.HasPrefix(cmd, "HELO"):
			_ = tp.PrintfLine("250 fake")
		case strings.HasPrefix(cmd, "MAIL FROM:"):
			m = mailMsg{from: strings.Trim(line[len("MAIL FROM:"):], "<> ")}
			_ = tp.PrintfLine("250 ok")
		case strings.HasPrefix(cmd, "RCPT TO:"):
			if code := r.rcptCode.Load(); code != 0 {
				_ = tp.PrintfLine("%d no such user", code)
				continue
			}
			m.to = strings.Trim(line[len("RCPT TO:"):], "<> ")
			_ = tp.PrintfLine("250 ok")
		case cmd == "DATA":
			_ = tp.PrintfLine("354 go ahead")
			msg, err := tp.ReadDotBytes()
			if err != nil {
				return
			}
			hr := textproto.NewReader(bufio.NewReader(strings.NewReader(string(msg))))
			h, _ := hr.ReadMIMEHeader()
			b, _ := io.ReadAll(quotedprintable.NewReader(hr.R))
			m.header, m.body = h, strings.ReplaceAll(string(b), "\r\n", "\n")
			r.got <- m
			_ = tp.PrintfLine("250 queued")
		case cmd == "QUIT":
			_ = tp.PrintfLine("221 bye")
			return
		default:
			_ = tp.PrintfLine("250 ok")
		}
	}
}

func (r *fakeRelay) next(t *testing.T) mailMsg {
	t.Helper()
	select {
	case m := <-r.got:
		return m
	case <-time.After(10 * time.Second):
		t.Fatal("no mail within 10s")
	}
	return mailMsg{}
}

func TestEmail(t *testing.T) {
	relay := newFakeRelay(t)
	e := newEnv(t, func(o *Options) { o.SMTP = &SMTPConfig{Relay: relay.ln.Addr().String(), From: "sns@opentrail.test"} })
	ctx := context.Background()
	arn := e.createTopic("mail")
	if _, err := e.client().SetTopicAttributes(ctx, &awssns.SetTopicAttributesInput{TopicArn: aws.String(arn), AttributeName: aws.String("DisplayName"), AttributeValue: aws.String("Ops Alerts")}); err != nil {
		t.Fatal(err)
	}
	_, err := e.client().Subscribe(ctx, &awssns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("email"), Endpoint: aws.String("Bob <bob@example.com>")})
	wantCode(t, "email with a display name", err, CodeInvalidParameter, 400)
	if _, err := e.client().Subscribe(ctx, &awssns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("email"), Endpoint: aws.String("bob@example.com")}); err != nil {
		t.Fatal(err)
	}
	m := relay.next(t)
	if m.from != "sns@opentrail.test" || m.to != "bob@example.com" || m.header.Get("Subject") != "AWS Notification - Subscription Confirmation" ||
		m.header.Get("From") != `"Ops Alerts" <sns@opentrail.test>` {
		t.Fatalf("confirmation mail %+v", m)
	}
	link := regexp.MustCompile(`Confirm subscription: (\S+)`).FindStringSubmatch(m.body)
	if link == nil || !strings.HasPrefix(link[1], e.http.URL+ConfirmPath) {
		t.Fatalf("no confirmation link in:\n%s", m.body)
	}
	if status, body := e.get(link[1]); status != 200 {
		t.Fatalf("confirm: %d %s", status, body)
	}
	if _, err := e.client().Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("Disk is full on häst-1"), Subject: aws.String("Disk alarm ✓")}); err != nil {
		t.Fatal(err)
	}
	m = relay.next(t)
	if m.header.Get("Subject") == "" || !strings.Contains(m.body, "Disk is full on häst-1") || !strings.Contains(m.body, e.http.URL+UnsubscribePath) {
		t.Fatalf("notification mail %+v", m)
	}
	if dec, err := new(mime.WordDecoder).DecodeHeader(m.header.Get("Subject")); err != nil || dec != "Disk alarm ✓" {
		t.Fatalf("Subject %q → %q %v", m.header.Get("Subject"), dec, err)
	}

	// email-json gets the signed envelope.
	if _, err := e.client().Subscribe(ctx, &awssns.SubscribeInput{TopicArn: aws.String(arn), Protocol: aws.String("email-json"), Endpoint: aws.String("robot@example.com")}); err != nil {
		t.Fatal(err)
	}
	m = relay.next(t)
	env := verify(t, e, []byte(m.body))
	if status, _ := e.get(env.SubscribeURL); status != 200 {
		t.Fatal("email-json confirmation failed")
	}
	if _, err := e.client().Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("json please")}); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ {
		m = relay.next(t)
		if m.to == "robot@example.com" {
			if env := verify(t, e, []byte(m.body)); env.Message != "json please" {
				t.Fatalf("email-json notification %+v", env)
			}
		}
	}

	// A relay that refuses the recipient (5xx) is not retried.
	relay.rcptCode.Store(550)
	if _, err := e.client().Publish(ctx, &awssns.PublishInput{TopicArn: aws.String(arn), Message: aws.String("bounce")}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, func() bool { return strings.Count(e.logs.String(), "delivery failed; giving up") == 2 })
}
