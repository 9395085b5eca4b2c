// Package sigv4 verifies AWS Signature Version 4 (AWS4-HMAC-SHA256) signed
// HTTP requests on the server side, in both forms: the Authorization header
// and the presigned URL (X-Amz-* query parameters).
//
// A server parses, looks up the access key, then verifies:
//
//	sr, err := sigv4.Parse(r)            // form only; no secret needed
//	secret := lookup(sr.Credential.AccessKeyID, sr.SecurityToken)
//	err = cache.Verify(r, sr, secret, body, clock.Now())
//
// where cache is a *KeyCache shared by all requests (derived signing keys
// are cached per secret, date, region and service) and body is the whole
// request body. Every error is an *Error whose Kind the server maps to the
// AWS error code of the protocol it answers in; this package writes no
// responses.
//
// # Canonical request
//
// As AWS specifies it, with these server-side choices:
//
//   - The URI path is the path as the client sent it (the request-target of
//     r.RequestURI, else r.URL.EscapedPath()). For every service but S3 it is
//     normalised (empty, "." and ".." segments removed, a trailing slash
//     kept) and URI-encoded again, which is the "encode each segment twice"
//     of the specification. For S3 it is not normalised and each segment is
//     decoded and encoded once.
//   - The query string is split on '&', names and values are decoded ('+'
//     is a space, as in HTML forms; an invalid escape is taken literally),
//     re-encoded (RFC 3986 unreserved characters kept, %XX upper case) and
//     sorted by encoded name then encoded value. A presigned URL's
//     X-Amz-Signature is left out.
//   - Header values are trimmed, runs of spaces collapsed, repeated headers
//     joined with ','. host is r.Host; content-length and transfer-encoding
//     fall back to r.ContentLength and r.TransferEncoding when net/http has
//     taken them out of r.Header.
//   - The payload hash is x-amz-content-sha256 when the client sends it
//     (UNSIGNED-PAYLOAD and STREAMING-* are used literally, a hex digest is
//     also checked against the body), UNSIGNED-PAYLOAD for an S3 presigned
//     URL without one, else the hex SHA-256 of the body.
//
// Only when that canonical request does not match, Verify also tries the
// path without normalisation (aws-sdk-go-v2 signs paths as they are) and,
// for a presigned non-S3 URL without a payload hash, UNSIGNED-PAYLOAD (AWS
// SDKs hash the empty body there, but some signers do not). These accept
// only signatures made over exactly the request received.
//
// # Time
//
// The header form is valid within MaxSkew (15 minutes) of the server's
// clock in both directions. A presigned URL is valid from X-Amz-Date minus
// 15 minutes until X-Amz-Date plus X-Amz-Expires (1 to 604800 seconds;
// S3 requires the parameter, other services default to 15 minutes).
// The credential scope date must be the date of X-Amz-Date.
//
// # Error codes
//
// Kind.Code(query) and Kind.Status(query) give:
//
//	Kind                   JSON protocols (awsJson, restJson)     Query protocol (IAM, STS, SNS)
//	MissingAuthentication  MissingAuthenticationTokenException 403  MissingAuthenticationToken 403
//	IncompleteSignature    IncompleteSignatureException 400         IncompleteSignature 400
//	SignatureDoesNotMatch  InvalidSignatureException 400            SignatureDoesNotMatch 403
//	Expired                InvalidSignatureException 400            SignatureDoesNotMatch 403
//	UnsupportedAlgorithm   IncompleteSignatureException 400         IncompleteSignature 400
//	ContentSHA256Mismatch  InvalidSignatureException 400            SignatureDoesNotMatch 403
//
// Sources, real service answers quoted in public issue trackers and AWS
// documentation:
//
//   - JSON services answer a bad or expired signature with
//     InvalidSignatureException, HTTP 400: aws/aws-sdk-js#254 (statusCode
//     400, "Signature expired: 20140325T143453Z is now earlier than
//     20140325T143751Z (20140325T145251Z - 15 min.)"), Kinesis
//     (aws/aws-sdk-go#2194, "Signature not yet current: ... is still later
//     than ... (... + 5 min.)", status 400), Secrets Manager
//     (boto/botocore#3587), DynamoDB (400,
//     com.amazon.coral.service#InvalidSignatureException with the mismatch
//     message, as DynamoDB's error handling is documented). CloudTrail is a Coral JSON service like these;
//     its wire reference lists IncompleteSignature, InvalidSignatureException
//     and MissingAuthenticationToken among the errors clients understand.
//   - Coral JSON services name the missing-token error
//     com.amazon.coral.service#MissingAuthenticationTokenException with the
//     message "Request is missing Authentication Token"
//     (awslabs/aws-sdk-ios-samples#111).
//   - STS (Query) answers an expired or not-yet-valid request with
//     SignatureDoesNotMatch, HTTP 403, and the same "Signature expired" /
//     "Signature not yet current" messages with "15 min."
//     (aws/aws-cli#6676 GetCallerIdentity; devsecops/bootcamp#101
//     AssumeRole; QT-DevOps/DevOpsIssues#989, status code 403). It does not
//     use RequestExpired (EC2's code). It answers a missing signature with
//     MissingAuthenticationToken, HTTP 403, "Request is missing
//     Authentication Token" (amzn/selling-partner-api-docs#3081), and a
//     malformed header with IncompleteSignature
//     (jenkinsci/aws-credentials-plugin#72).
//   - Common Errors pages of the API references: IncompleteSignature 400,
//     MissingAuthenticationToken 403; the IAM SigV4 troubleshooting guide:
//     "HTTP 403 SignatureDoesNotMatch".
//   - IncompleteSignatureException is HTTP 400 for JSON services
//     (iann0036/cloud9-sync#10).
//   - UnsupportedAlgorithm: AWS has no dedicated code; it is reported as an
//     incomplete signature, with S3's message "The authorization mechanism
//     you have provided is not supported. Please use AWS4-HMAC-SHA256." (or
//     'X-Amz-Algorithm only supports "AWS4-HMAC-SHA256"' for a presigned URL).
//   - ContentSHA256Mismatch: S3's XAmzContentSHA256Mismatch (400) message;
//     other services have no such check and would report a signature
//     mismatch, hence those codes.
//
// Messages follow AWS's wording: "Authorization header requires 'Credential'
// parameter. ... Authorization=<header>" (as quoted in aws/chalice#828 and
// others), "'<token>' not a valid key=value pair (missing equal-sign) in
// Authorization header: '<header>'." (cloud9-sync#10,
// fhir-works-on-aws-deployment#379), "Credential should be scoped to a valid
// region, not '<region>'. " (JuliaCloud/AWS.jl#565, an IAM
// SignatureDoesNotMatch). A few are recalled rather than quoted from a
// source at hand and may differ in detail: the 5-element credential, the
// credential terminator and scope date, "'Host' or ':authority' must be a
// 'SignedHeader'", the ISO-8601 date, "AWS query-string parameters must
// include", X-Amz-Expires and "Only one auth mechanism allowed" messages.
//
// S3 uses its own codes; a gateway would map MissingAuthentication to
// AccessDenied, IncompleteSignature to AuthorizationHeaderMalformed or
// AuthorizationQueryParametersError, SignatureDoesNotMatch to
// SignatureDoesNotMatch (403), Expired to RequestTimeTooSkewed (403) for the
// header form or AccessDenied "Request has expired" (403) for a presigned
// URL, UnsupportedAlgorithm to InvalidRequest (400) and ContentSHA256Mismatch
// to XAmzContentSHA256Mismatch (400).
//
// # Performance
//
// With a KeyCache, Verify does not allocate for a valid request and Parse
// allocates only the Request (and decoded presigned parameters). The
// canonical request is built in stack buffers and the final HMAC is written
// out over crypto/sha256 instead of crypto/hmac. Signatures are compared in
// constant time (crypto/subtle).
package sigv4
