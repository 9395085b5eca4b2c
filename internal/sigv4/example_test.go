package sigv4_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"time"

	"github.com/opentrail/opentrail/internal/sigv4"
)

// A handler parses the signature, looks the access key up, verifies, and
// maps a failure to the AWS error of its protocol.
func ExampleKeyCache_Verify() {
	cache := sigv4.NewKeyCache(0) // shared by all requests
	secrets := map[string]string{"AKIDEXAMPLE": "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"}
	now := time.Date(2015, 8, 30, 12, 40, 0, 0, time.UTC) // the server's clock

	// The AWS test suite's get-vanilla request.
	r := httptest.NewRequest("GET", "http://example.amazonaws.com/", nil)
	r.Header.Set("X-Amz-Date", "20150830T123600Z")
	r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, "+
		"SignedHeaders=host;x-amz-date, Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31")

	verify := func(r *http.Request, body []byte) error {
		sr, err := sigv4.Parse(r)
		if err != nil {
			return err
		}
		secret, ok := secrets[sr.Credential.AccessKeyID]
		if !ok {
			return errors.New("unknown access key") // the server's own error
		}
		return cache.Verify(r, sr, secret, body, now)
	}
	fmt.Println(verify(r, nil))

	r.Header.Set("X-Amz-Date", "20150830T123601Z")
	var e *sigv4.Error
	if errors.As(verify(r, nil), &e) {
		fmt.Println(e.Code(false), e.Status(false)) // a JSON service (CloudTrail)
		fmt.Println(e.Code(true), e.Status(true))   // a Query service (IAM, STS)
		fmt.Println(e.Message)
	}
	// Output:
	// <nil>
	// InvalidSignatureException 400
	// SignatureDoesNotMatch 403
	// The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.
}
