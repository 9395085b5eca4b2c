// Package e2e holds end-to-end tests: each starts a real `opentrail serve` process (see
// internal/testserver) and drives it through aws-sdk-go-v2 clients and raw HTTP.
package e2e
