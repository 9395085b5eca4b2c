// Package opentrail holds the vocabulary of OpenTrail, a self-hosted, AWS-API-compatible
// reimplementation of AWS CloudTrail: the CloudTrail record, caller identities, trails and
// typed errors. It does no I/O; the machinery lives under internal/ and cmd/opentrail wires it.
package opentrail
