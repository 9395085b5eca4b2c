package e2e

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"encoding/xml"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/service/iam"
	"github.com/aws/aws-sdk-go-v2/service/sts"

	"github.com/opentrail/opentrail/internal/testserver"
)

const ctTarget = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101."

type rawReq struct {
	service, region string
	target          string // JSON: X-Amz-Target; empty for Query
	body            string
	key, secret     string
	signTime        time.Time
	unsigned        bool
	tamper          bool // change the body after signing
}

type rawResp struct {
	status    int
	code      string
	message   string
	requestID string
	body      string
}

func send(t *testing.T, srv *testserver.Server, r rawReq) rawResp {
	t.Helper()
	if r.region == "" {
		r.region = "us-east-1"
	}
	if r.key == "" {
		r.key = testserver.RootAccessKeyID
		if r.secret == "" {
			r.secret = testserver.RootSecret
		}
	}
	if r.signTime.IsZero() {
		r.signTime = time.Now()
	}
	req, err := http.NewRequest(http.MethodPost, srv.URL+"/", strings.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if r.target != "" {
		req.Header.Set("X-Amz-Target", r.target)
		req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	} else {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded; charset=utf-8")
	}
	if !r.unsigned {
		sum := sha256.Sum256([]byte(r.body))
		if err := v4.NewSigner().SignHTTP(context.Background(), aws.Credentials{AccessKeyID: r.key, SecretAccessKey: r.secret},
			req, hex.EncodeToString(sum[:]), r.service, r.region, r.signTime); err != nil {
			t.Fatal(err)
		}
	}
	if r.tamper {
		b := r.body + " "
		req.Body = io.NopCloser(strings.NewReader(b))
		req.ContentLength = int64(len(b))
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	out := rawResp{status: resp.StatusCode, body: string(b), requestID: resp.Header.Get("x-amzn-RequestId")}
	if resp.StatusCode == http.StatusOK {
		return out
	}
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/x-amz-json") {
		var m map[string]string
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("error body is not JSON: %s", b)
		}
		out.code = m["__type"]
		out.message = m["message"] + m["Message"]
	} else {
		var x struct {
			Error     struct{ Type, Code, Message string }
			RequestID string `xml:"RequestId"`
		}
		if err := xml.Unmarshal(b, &x); err != nil {
			t.Fatalf("error body is not XML: %s", b)
		}
		out.code, out.message = x.Error.Code, x.Error.Message
		if x.RequestID != out.requestID {
			t.Errorf("RequestId %q in body, %q in header", x.RequestID, out.requestID)
		}
	}
	return out
}

const gci = "Action=GetCallerIdentity&Version=2011-06-15"

func TestProtocolErrors(t *testing.T) {
	srv := testserver.Start(t)
	bigBody := `{"Name":"` + strings.Repeat("a", 17<<20) + `"}`
	cases := []struct {
		name       string
		req        rawReq
		wantStatus int
		wantCode   string
	}{
		{"query ok", rawReq{service: "sts", body: gci}, 200, ""},
		{"json ok", rawReq{service: "cloudtrail", target: ctTarget + "DescribeTrails", body: `{}`}, 200, ""},
		{"unknown key query", rawReq{service: "sts", body: gci, key: "AKIAUNKNOWN000000000", secret: "x"}, 403, "InvalidClientTokenId"},
		{"unknown key json", rawReq{service: "cloudtrail", target: ctTarget + "DescribeTrails", body: `{}`, key: "AKIAUNKNOWN000000000", secret: "x"}, 400, "UnrecognizedClientException"},
		{"bad signature query", rawReq{service: "sts", body: gci, secret: "wrong"}, 403, "SignatureDoesNotMatch"},
		{"bad signature json", rawReq{service: "cloudtrail", target: ctTarget + "DescribeTrails", body: `{}`, secret: "wrong"}, 400, "InvalidSignatureException"},
		{"tampered body", rawReq{service: "sts", body: gci, tamper: true}, 403, "SignatureDoesNotMatch"},
		{"expired", rawReq{service: "sts", body: gci, signTime: time.Now().Add(-20 * time.Minute)}, 403, "SignatureDoesNotMatch"},
		{"too early", rawReq{service: "cloudtrail", target: ctTarget + "DescribeTrails", body: `{}`, signTime: time.Now().Add(20 * time.Minute)}, 400, "InvalidSignatureException"},
		{"missing auth json", rawReq{service: "cloudtrail", target: ctTarget + "DescribeTrails", body: `{}`, unsigned: true}, 403, "MissingAuthenticationTokenException"},
		{"missing auth query", rawReq{service: "sts", body: gci, unsigned: true}, 403, "MissingAuthenticationToken"},
		{"unknown region", rawReq{service: "sts", body: gci, region: "xx-nowhere-1"}, 403, "SignatureDoesNotMatch"},
		{"unknown json op", rawReq{service: "cloudtrail", target: ctTarget + "NoSuchThing", body: `{}`}, 400, "UnknownOperationException"},
		{"unknown query action", rawReq{service: "sts", body: "Action=NoSuchThing&Version=2011-06-15"}, 400, "InvalidAction"},
		{"malformed json", rawReq{service: "cloudtrail", target: ctTarget + "DescribeTrails", body: `{"trailNameList":`}, 400, "SerializationException"},
		{"wrong json type", rawReq{service: "cloudtrail", target: ctTarget + "DescribeTrails", body: `{"trailNameList":"x"}`}, 400, "SerializationException"},
		{"malformed query", rawReq{service: "iam", body: "Action=ListUsers&Version=2010-05-08&MaxItems=%zz"}, 400, "MalformedQueryString"},
		{"bad query value", rawReq{service: "iam", body: "Action=ListUsers&Version=2010-05-08&MaxItems=lots"}, 400, ""},
		{"oversized", rawReq{service: "cloudtrail", target: ctTarget + "DescribeTrails", body: bigBody}, 413, "RequestEntityTooLarge"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := send(t, srv, c.req)
			if got.status != c.wantStatus || (c.wantCode != "" && got.code != c.wantCode) {
				t.Fatalf("got %d %s (%s); want %d %s", got.status, got.code, got.message, c.wantStatus, c.wantCode)
			}
			if c.wantStatus != 200 && got.message == "" && got.code != "" {
				t.Errorf("error %s has no message", got.code)
			}
			if got.requestID == "" {
				t.Errorf("no x-amzn-RequestId header")
			}
		})
	}
	// The server is still up and answering.
	if got := send(t, srv, rawReq{service: "sts", body: gci}); got.status != 200 {
		t.Fatalf("server unhealthy after bad requests: %d %s", got.status, got.body)
	}
}

func TestWrongAccount(t *testing.T) {
	srv := testserver.Start(t)
	ctx := testserver.Context(t)
	rootIAM := iam.NewFromConfig(srv.RootConfig())
	if _, err := rootIAM.CreateUser(ctx, &iam.CreateUserInput{UserName: aws.String("carol")}); err != nil {
		t.Fatal(err)
	}
	// A policy of another account cannot be attached.
	_, err := rootIAM.AttachUserPolicy(ctx, &iam.AttachUserPolicyInput{UserName: aws.String("carol"), PolicyArn: aws.String("arn:aws:iam::999999999999:policy/admin")})
	if got := apiCode(t, err); got != "NoSuchEntity" && got != "AccessDenied" {
		t.Fatalf("attach foreign policy: %q; want NoSuchEntity or AccessDenied", got)
	}
	// A role of another account cannot be assumed.
	_, err = sts.NewFromConfig(srv.RootConfig()).AssumeRole(ctx, &sts.AssumeRoleInput{RoleArn: aws.String("arn:aws:iam::999999999999:role/admin"), RoleSessionName: aws.String("s1")})
	if got := apiCode(t, err); got != "AccessDenied" {
		t.Fatalf("assume foreign role: %q; want AccessDenied", got)
	}
}
