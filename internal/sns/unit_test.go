package sns

import (
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"math"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/opentrail/opentrail"
)

func TestNames(t *testing.T) {
	for name, want := range map[string]bool{
		"a": true, "A_b-9": true, strings.Repeat("x", 256): true,
		"": false, strings.Repeat("x", 257): false, "a.fifo": false, "a b": false, "a:b": false, "é": false,
	} {
		if got := validTopicName(name); got != want {
			t.Errorf("validTopicName(%q) = %v; want %v", name, got, want)
		}
	}
	for arn, want := range map[string]bool{
		"arn:aws:sns:us-east-1:123456789012:t":      true,
		"arn:aws:sns:us-east-1:123456789012:t:x":    false,
		"arn:aws:sns:us-east-1:12345678901:t":       false,
		"arn:aws:sqs:us-east-1:123456789012:t":      false,
		"arn:aws:sns::123456789012:t":               false,
		"arn:aws:sns:us-east-1:123456789012:":       false,
		"arn:aws-cn:sns:cn-north-1:123456789012:t":  false,
		"arn:aws:sns:US-EAST-1:123456789012:t":      false,
		"arn:aws:sns:us-east-1:123456789012:t.fifo": false,
	} {
		ref, ok := parseTopicARN(arn)
		if ok != want || (ok && ref.ARN() != arn) {
			t.Errorf("parseTopicARN(%q) = %+v %v; want ok=%v", arn, ref, ok, want)
		}
	}
	sub := "arn:aws:sns:us-east-1:123456789012:t:0f0e0d0c-0b0a-4908-8706-050403020100"
	if r, ok := parseSubscriptionARN(sub); !ok || r.Topic.Name != "t" || r.ID != "0f0e0d0c-0b0a-4908-8706-050403020100" {
		t.Errorf("parseSubscriptionARN(%q) = %+v %v", sub, r, ok)
	}
	for _, bad := range []string{"pending confirmation", "PendingConfirmation", "arn:aws:sns:us-east-1:123456789012:t", sub + "x", strings.ToUpper(sub)} {
		if _, ok := parseSubscriptionARN(bad); ok {
			t.Errorf("parseSubscriptionARN(%q) accepted", bad)
		}
	}
}

func TestRetrySchedule(t *testing.T) {
	delays := func(p retryPolicy) []float64 {
		var out []float64
		for k := 1; ; k++ {
			d, ok := p.next(k, time.Second)
			if !ok {
				return out
			}
			out = append(out, math.Round(d.Seconds()*1000)/1000)
		}
	}
	eq := func(a, b []float64) bool {
		if len(a) != len(b) {
			return false
		}
		for i := range a {
			if math.Abs(a[i]-b[i]) > 0.01 {
				return false
			}
		}
		return true
	}
	cases := []struct {
		name string
		p    retryPolicy
		want []float64
	}{
		{"AWS default", defaultHTTPRetry, []float64{20, 20, 20}},
		{"no retries", retryPolicy{MinDelayTarget: 1, MaxDelayTarget: 1, BackoffFunction: "linear"}, nil},
		{"phases", retryPolicy{MinDelayTarget: 2, MaxDelayTarget: 10, NumRetries: 8, NumNoDelayRetries: 1, NumMinDelayRetries: 2, NumMaxDelayRetries: 2, BackoffFunction: "linear"},
			[]float64{0, 2, 2, 2, 6, 10, 10, 10}},
		{"geometric", retryPolicy{MinDelayTarget: 1, MaxDelayTarget: 16, NumRetries: 5, BackoffFunction: "geometric"}, []float64{1, 2, 4, 8, 16}},
		{"arithmetic", retryPolicy{MinDelayTarget: 1, MaxDelayTarget: 9, NumRetries: 3, BackoffFunction: "arithmetic"}, []float64{1, 4, 9}},
	}
	for _, tc := range cases {
		if got := delays(tc.p); !eq(got, tc.want) {
			t.Errorf("%s: delays %v; want %v", tc.name, got, tc.want)
		}
	}
	exp := delays(retryPolicy{MinDelayTarget: 1, MaxDelayTarget: 100, NumRetries: 6, BackoffFunction: "exponential"})
	for i := 1; i < len(exp); i++ {
		if exp[i] < exp[i-1] {
			t.Fatalf("exponential backoff decreases: %v", exp)
		}
	}
	if exp[0] != 1 || exp[len(exp)-1] != 100 {
		t.Fatalf("exponential backoff from %v to %v; want 1 to 100", exp[0], exp[len(exp)-1])
	}
	// The email schedule: 50 retries over about six hours.
	total := 0.0
	for _, d := range delays(emailRetry) {
		total += d
	}
	if n := len(delays(emailRetry)); n != 50 || total < 5*3600 || total > 7*3600 {
		t.Fatalf("email schedule: %d retries over %.0fs", n, total)
	}
}

func TestDeliveryPolicyValidation(t *testing.T) {
	good := []string{
		`{}`,
		`{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":60,"numRetries":50,"numNoDelayRetries":3,"backoffFunction":"exponential"}}`,
		`{"throttlePolicy":{"maxReceivesPerSecond":5},"requestPolicy":{"headerContentType":"application/json; charset=UTF-8"}}`,
	}
	for _, doc := range good {
		if _, err := parseSubscriptionDeliveryPolicy(doc); err != nil {
			t.Errorf("%s: %v", doc, err)
		}
	}
	bad := []string{
		``, `[]`, `{"healthyRetryPolicy":{"numRetries":101,"minDelayTarget":1,"maxDelayTarget":1}}`,
		`{"healthyRetryPolicy":{"numRetries":3,"minDelayTarget":0,"maxDelayTarget":1}}`,
		`{"healthyRetryPolicy":{"numRetries":3,"minDelayTarget":5,"maxDelayTarget":4}}`,
		`{"healthyRetryPolicy":{"numRetries":3,"numNoDelayRetries":4,"minDelayTarget":1,"maxDelayTarget":1}}`,
		`{"healthyRetryPolicy":{"numRetries":3,"minDelayTarget":1,"maxDelayTarget":1,"backoffFunction":"cubic"}}`,
		`{"healthyRetryPolicy":{"numRetries":100,"minDelayTarget":3600,"maxDelayTarget":3600}}`, // over the 3,600 s cap
		`{"throttlePolicy":{"maxReceivesPerSecond":0}}`,
		`{"requestPolicy":{"headerContentType":"not a type"}}`,
		`{"unknown":1}`,
		`{"healthyRetryPolicy":{"numRetries":"3"}}`,
		`{} {}`,
	}
	for _, doc := range bad {
		_, err := parseSubscriptionDeliveryPolicy(doc)
		if e := opentrail.ErrorOf(err); e == nil || e.Code != CodeInvalidParameter {
			t.Errorf("%q: got %v; want InvalidParameter", doc, err)
		}
	}
	tp, err := parseTopicDeliveryPolicy(`{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":2,"maxDelayTarget":2,"numRetries":1},"disableSubscriptionOverrides":true}}`)
	if err != nil {
		t.Fatal(err)
	}
	sp, _ := parseSubscriptionDeliveryPolicy(`{"healthyRetryPolicy":{"minDelayTarget":5,"maxDelayTarget":5,"numRetries":9}}`)
	if eff := effectivePolicy(tp, sp); eff.HealthyRetryPolicy.NumRetries != 1 {
		t.Fatalf("disableSubscriptionOverrides ignored: %+v", eff.HealthyRetryPolicy)
	}
	tp.HTTP.DisableSubscriptionOverrides = false
	if eff := effectivePolicy(tp, sp); eff.HealthyRetryPolicy.NumRetries != 9 || eff.contentType() != defaultContentType {
		t.Fatalf("subscription override lost: %+v", eff.HealthyRetryPolicy)
	}
	if got := effectiveTopicPolicyJSON(nil); got != `{"http":{"defaultHealthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3,"numMaxDelayRetries":0,"numNoDelayRetries":0,"numMinDelayRetries":0,"backoffFunction":"linear"},"disableSubscriptionOverrides":false,"defaultRequestPolicy":{"headerContentType":"text/plain; charset=UTF-8"}}}` {
		t.Fatalf("default EffectiveDeliveryPolicy %s", got)
	}
}

func testKey(t testing.TB) (*rsa.PrivateKey, *x509.Certificate) {
	t.Helper()
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "test"}, NotBefore: time.Now(), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return key, cert
}

func TestStringToSign(t *testing.T) {
	n := &Envelope{Type: TypeNotification, MessageId: "id", TopicArn: "arn", Subject: "subj", Message: "a\nb", Timestamp: "ts",
		UnsubscribeURL: "u", SigningCertURL: "c", MessageAttributes: map[string]MessageAttribute{"k": {"String", "v"}}}
	got, _ := n.StringToSign()
	if want := "Message\na\nb\nMessageId\nid\nSubject\nsubj\nTimestamp\nts\nTopicArn\narn\nType\nNotification\n"; string(got) != want {
		t.Errorf("notification string to sign %q; want %q", got, want)
	}
	n.Subject = ""
	got, _ = n.StringToSign()
	if want := "Message\na\nb\nMessageId\nid\nTimestamp\nts\nTopicArn\narn\nType\nNotification\n"; string(got) != want {
		t.Errorf("notification without subject %q; want %q", got, want)
	}
	c := &Envelope{Type: TypeSubscriptionConfirmation, MessageId: "id", Token: "tok", TopicArn: "arn", Message: "m", SubscribeURL: "s", Timestamp: "ts"}
	got, _ = c.StringToSign()
	if want := "Message\nm\nMessageId\nid\nSubscribeURL\ns\nTimestamp\nts\nToken\ntok\nTopicArn\narn\nType\nSubscriptionConfirmation\n"; string(got) != want {
		t.Errorf("confirmation string to sign %q; want %q", got, want)
	}
}

func TestSignVerify(t *testing.T) {
	key, cert := testKey(t)
	_, other := testKey(t)
	for _, version := range []string{"1", "2"} {
		for _, env := range []*Envelope{
			{Type: TypeNotification, MessageId: "m1", TopicArn: "arn:aws:sns:us-east-1:123456789012:t", Subject: "S", Message: "héllo <&>\n\"q\"", Timestamp: "2025-01-01T00:00:00.000Z",
				SigningCertURL: "https://x/c.pem", UnsubscribeURL: "https://x/u", MessageAttributes: map[string]MessageAttribute{"a": {"Number", "1"}, "b": {"String", "x"}}},
			{Type: TypeUnsubscribeConfirmation, MessageId: "m2", Token: "t0k", TopicArn: "arn:aws:sns:us-east-1:123456789012:t", Message: "bye", SubscribeURL: "https://x/s?a=1&b=2", Timestamp: "2025-01-01T00:00:00.000Z"},
		} {
			env.SignatureVersion = version
			if err := env.sign(key); err != nil {
				t.Fatal(err)
			}
			body := env.Marshal()
			got, err := VerifyMessage(body, cert)
			if err != nil {
				t.Fatalf("v%s %s: %v\n%s", version, env.Type, err, body)
			}
			if got.Message != env.Message || got.Subject != env.Subject || len(got.MessageAttributes) != len(env.MessageAttributes) {
				t.Fatalf("round trip: %+v", got)
			}
			if _, err := VerifyMessage(body, other); err == nil {
				t.Fatal("verified with another certificate")
			}
			// Tampering with a signed member breaks the signature; unsigned members do not.
			var m map[string]any
			if err := json.Unmarshal(body, &m); err != nil {
				t.Fatal(err)
			}
			m["SigningCertURL"] = "https://elsewhere/c.pem"
			b, _ := json.Marshal(m)
			if _, err := VerifyMessage(b, cert); err != nil {
				t.Fatalf("unsigned member changed: %v", err)
			}
			m["Message"] = "tampered"
			b, _ = json.Marshal(m)
			if _, err := VerifyMessage(b, cert); err == nil {
				t.Fatal("tampered message verified")
			}
		}
	}
	if _, err := VerifyMessage([]byte(`{"Type":"Other"}`), cert); err == nil {
		t.Fatal("unknown type verified")
	}
}
