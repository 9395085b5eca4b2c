package sns

import (
	"encoding/json"
	"math"
	"net/url"
	"testing"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/awsproto"
)

// FuzzPublishInput decodes Publish form input as the server does and validates it: every
// refusal is an AWS error, and every accepted message makes an envelope that is valid JSON
// and decodes back to the same message, subject and attributes.
func FuzzPublishInput(f *testing.F) {
	for _, s := range []string{
		"Message=hi&Subject=s",
		"Message=%7B%22default%22%3A%22x%22%7D&MessageStructure=json",
		"Message=m&MessageAttributes.entry.1.Name=a&MessageAttributes.entry.1.Value.DataType=String&MessageAttributes.entry.1.Value.StringValue=v",
		"Message=m&MessageAttributes.entry.1.Name=n&MessageAttributes.entry.1.Value.DataType=Number&MessageAttributes.entry.1.Value.StringValue=1e3",
		"Message=m&MessageAttributes.entry.1.Name=b&MessageAttributes.entry.1.Value.DataType=Binary&MessageAttributes.entry.1.Value.BinaryValue=AAE%3D",
		"Message=m&MessageAttributes.entry.1.Name=l&MessageAttributes.entry.1.Value.DataType=String.Array&MessageAttributes.entry.1.Value.StringValue=%5B1%2C%22a%22%5D",
		"Message=m&MessageAttributes.entry.11.Name=x&MessageAttributes.entry.1.Name=",
		"Message=%ff&Subject=%0a",
		"Message=m&MessageAttributes.entry.1.Name=a&MessageAttributes.entry.1.Value.DataType=String.%ff&MessageAttributes.entry.1.Value.StringValue=0",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, q string) {
		vals, err := url.ParseQuery(q)
		if err != nil {
			return
		}
		var in publishInput
		if err := awsproto.DecodeQuery(vals, &in); err != nil {
			if opentrail.ErrorOf(err) == nil {
				t.Fatalf("DecodeQuery(%q): non-AWS error %v", q, err)
			}
			return
		}
		m, err := parseMessage(in.Message, in.Subject, in.MessageStructure, in.MessageAttributes.list())
		if err != nil {
			if opentrail.ErrorOf(err) == nil {
				t.Fatalf("parseMessage(%q): non-AWS error %v", q, err)
			}
			return
		}
		if len(m.attrs) > maxMessageAttrs || len(m.message) > maxMessageBytes {
			t.Fatalf("accepted %d attributes, %d bytes", len(m.attrs), len(m.message))
		}
		if _, err := json.Marshal(in); err != nil {
			t.Fatalf("record rendering: %v", err)
		}
		env := &Envelope{Type: TypeNotification, MessageId: "id", TopicArn: "arn:aws:sns:us-east-1:123456789012:t",
			Subject: m.subject, Message: m.forProtocol("http"), Timestamp: "ts", SignatureVersion: "2", Signature: "c2ln",
			SigningCertURL: "u", UnsubscribeURL: "u", MessageAttributes: m.attrs}
		var back Envelope
		if err := json.Unmarshal(env.Marshal(), &back); err != nil {
			t.Fatalf("envelope is not JSON: %v\n%s", err, env.Marshal())
		}
		if back.Message != env.Message || back.Subject != env.Subject || len(back.MessageAttributes) != len(env.MessageAttributes) {
			t.Fatalf("envelope round trip: %+v", back)
		}
		for k, v := range env.MessageAttributes {
			if back.MessageAttributes[k] != v {
				t.Fatalf("attribute %s: %+v; want %+v", k, back.MessageAttributes[k], v)
			}
		}
	})
}

// FuzzDeliveryPolicy checks that an accepted delivery policy has a finite schedule within
// AWS's limits.
func FuzzDeliveryPolicy(f *testing.F) {
	for _, s := range []string{
		`{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":60,"numRetries":50,"numNoDelayRetries":3,"backoffFunction":"exponential"}}`,
		`{"healthyRetryPolicy":{"minDelayTarget":20,"maxDelayTarget":20,"numRetries":3}}`,
		`{"healthyRetryPolicy":{"minDelayTarget":1,"maxDelayTarget":3600,"numRetries":2,"backoffFunction":"geometric"}}`,
		`{"requestPolicy":{"headerContentType":"text/plain"}}`, `{`, `null`,
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		p, err := parseSubscriptionDeliveryPolicy(doc)
		if err != nil {
			if opentrail.ErrorOf(err) == nil {
				t.Fatalf("non-AWS error %v", err)
			}
			return
		}
		r := p.HealthyRetryPolicy
		if r == nil {
			return
		}
		total := 0.0
		for k := 1; k <= r.NumRetries; k++ {
			d := r.delay(k)
			if math.IsNaN(d) || d < 0 || d > float64(r.MaxDelayTarget)+1e-9 {
				t.Fatalf("retry %d of %s: delay %v", k, doc, d)
			}
			total += d
		}
		if total > maxTotalRetryTime {
			t.Fatalf("accepted a schedule of %v s: %s", total, doc)
		}
		if _, ok := r.next(r.NumRetries+1, 1); ok {
			t.Fatal("a retry beyond numRetries")
		}
	})
}

// FuzzVerifyMessage feeds arbitrary bodies to the verifier: it must never panic, and must
// accept only bodies whose signed members are those of a genuinely signed message.
func FuzzVerifyMessage(f *testing.F) {
	key, cert := testKey(f)
	env := &Envelope{Type: TypeNotification, MessageId: "m", TopicArn: "arn:aws:sns:us-east-1:123456789012:t", Message: "x",
		Timestamp: "2025-01-01T00:00:00.000Z", SignatureVersion: "2", SigningCertURL: "u", UnsubscribeURL: "u"}
	if err := env.sign(key); err != nil {
		f.Fatal(err)
	}
	want, _ := env.StringToSign()
	f.Add(env.Marshal())
	f.Add([]byte(`{"Type":"SubscriptionConfirmation","Signature":"!!","SignatureVersion":"1"}`))
	f.Add([]byte(`[]`))
	// An unsigned lower-case "message" must not stand in for the signed Message.
	f.Add(append(env.Marshal()[:len(env.Marshal())-2], []byte(`,"message":"evil"}`)...))
	f.Fuzz(func(t *testing.T, body []byte) {
		got, err := VerifyMessage(body, cert)
		if err != nil {
			return
		}
		sts, _ := got.StringToSign()
		if string(sts) != string(want) || got.Message != env.Message {
			t.Fatalf("verified a message with other signed content: %q", sts)
		}
	})
}

// FuzzARNs checks that ARN parsing round-trips.
func FuzzARNs(f *testing.F) {
	for _, s := range []string{"arn:aws:sns:us-east-1:123456789012:t", "arn:aws:sns:us-east-1:123456789012:t:0f0e0d0c-0b0a-4908-8706-050403020100", "arn:::::"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if ref, ok := parseTopicARN(s); ok && ref.ARN() != s {
			t.Fatalf("topic %q → %q", s, ref.ARN())
		}
		if ref, ok := parseSubscriptionARN(s); ok && ref.Topic.ARN()+":"+ref.ID != s {
			t.Fatalf("subscription %q → %+v", s, ref)
		}
	})
}
