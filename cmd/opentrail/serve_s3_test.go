package main

import (
	"bytes"
	"os"
	"strings"
	"testing"
)

// unsetS3Env removes the OPENTRAIL_S3_* variables for the test.
func unsetS3Env(t *testing.T) {
	for _, v := range []string{"OPENTRAIL_S3_ENDPOINT", "OPENTRAIL_S3_ACCESS_KEY_ID", "OPENTRAIL_S3_SECRET_ACCESS_KEY", "OPENTRAIL_S3_REGION"} {
		t.Setenv(v, "") // restores the old value after the test
		os.Unsetenv(v)
	}
}

func TestParseServeS3(t *testing.T) {
	unsetS3Env(t)
	var stderr bytes.Buffer
	c, err := parseServe(nil, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if c.s3.Endpoint != "" || c.s3.Region != "us-east-1" {
		t.Errorf("defaults: endpoint %q, region %q; want none, us-east-1", c.s3.Endpoint, c.s3.Region)
	}

	c, err = parseServe([]string{"--s3-endpoint", "http://127.0.0.1:7070", "--s3-access-key-id", "AKID", "--s3-secret-access-key", "s3cr3t", "--s3-region", "eu-west-1"}, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if c.s3.Endpoint != "http://127.0.0.1:7070" || c.s3.AccessKeyID != "AKID" || c.s3.SecretAccessKey != "s3cr3t" || c.s3.Region != "eu-west-1" {
		t.Errorf("flags: %+v", c.s3)
	}

	t.Setenv("OPENTRAIL_S3_ENDPOINT", "https://s3.example.com")
	t.Setenv("OPENTRAIL_S3_ACCESS_KEY_ID", "ENVKEY")
	t.Setenv("OPENTRAIL_S3_SECRET_ACCESS_KEY", "env-secret-value")
	t.Setenv("OPENTRAIL_S3_REGION", "ap-south-1")
	c, err = parseServe(nil, &stderr)
	if err != nil {
		t.Fatal(err)
	}
	if c.s3.Endpoint != "https://s3.example.com" || c.s3.AccessKeyID != "ENVKEY" || c.s3.SecretAccessKey != "env-secret-value" || c.s3.Region != "ap-south-1" {
		t.Errorf("env: %+v", c.s3)
	}
	// A flag beats the environment.
	if c, err = parseServe([]string{"--s3-secret-access-key", "flag-secret"}, &stderr); err != nil || c.s3.SecretAccessKey != "flag-secret" {
		t.Errorf("flag over env: %v, %q", err, c.s3.SecretAccessKey)
	}
	// Usage output never shows the secret.
	stderr.Reset()
	if _, err := parseServe([]string{"-h"}, &stderr); err == nil {
		t.Error("-h: no error")
	}
	if strings.Contains(stderr.String(), "env-secret-value") {
		t.Errorf("usage output shows the secret:\n%s", stderr.String())
	}
	if !strings.Contains(stderr.String(), "-s3-endpoint") {
		t.Errorf("usage output lacks --s3-endpoint:\n%s", stderr.String())
	}
}

func TestParseServeS3Errors(t *testing.T) {
	unsetS3Env(t)
	for _, args := range [][]string{
		{"--s3-endpoint", "http://127.0.0.1:7070"},
		{"--s3-endpoint", "http://127.0.0.1:7070", "--s3-access-key-id", "AKID"},
		{"--s3-endpoint", "http://127.0.0.1:7070", "--s3-secret-access-key", "s"},
		{"--s3-access-key-id", "AKID", "--s3-secret-access-key", "s"},
		{"--s3-endpoint", "127.0.0.1:7070", "--s3-access-key-id", "AKID", "--s3-secret-access-key", "s"},
		{"--s3-endpoint", "http://user:pw@host", "--s3-access-key-id", "AKID", "--s3-secret-access-key", "s"},
	} {
		var stderr bytes.Buffer
		_, err := parseServe(args, &stderr)
		if err == nil {
			t.Errorf("parseServe(%q) succeeded", args)
			continue
		}
		if strings.Contains(err.Error(), "pw@") {
			t.Errorf("parseServe(%q) = %v: shows the password", args, err)
		}
	}
}
