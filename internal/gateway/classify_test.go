package gateway

import (
	"net/http"
	"net/netip"
	"net/url"
	"testing"
)

func TestClassify(t *testing.T) {
	tests := []struct {
		method, target, host string
		copy                 bool
		name, bucket, key    string
		readOnly, data       bool
	}{
		{"GET", "/", "localhost:9000", false, "ListBuckets", "", "", true, false},
		{"PUT", "/b", "localhost", false, "CreateBucket", "b", "", false, false},
		{"DELETE", "/b", "localhost", false, "DeleteBucket", "b", "", false, false},
		{"HEAD", "/b", "localhost", false, "HeadBucket", "b", "", true, false},
		{"GET", "/b", "localhost", false, "ListObjects", "b", "", true, true},
		{"GET", "/b/?list-type=2&prefix=a", "localhost", false, "ListObjectsV2", "b", "", true, true},
		{"GET", "/b?versions", "localhost", false, "ListObjectVersions", "b", "", true, true},
		{"GET", "/b?uploads", "localhost", false, "ListMultipartUploads", "b", "", true, true},
		{"POST", "/b?delete", "localhost", false, "DeleteObjects", "b", "", false, true},
		{"PUT", "/b?policy", "localhost", false, "PutBucketPolicy", "b", "", false, false},
		{"GET", "/b?policy", "localhost", false, "GetBucketPolicy", "b", "", true, false},
		{"DELETE", "/b?policy", "localhost", false, "DeleteBucketPolicy", "b", "", false, false},
		{"GET", "/b?policyStatus", "localhost", false, "GetBucketPolicyStatus", "b", "", true, false},
		{"PUT", "/b?acl", "localhost", false, "PutBucketAcl", "b", "", false, false},
		{"PUT", "/b?versioning", "localhost", false, "PutBucketVersioning", "b", "", false, false},
		{"PUT", "/b?lifecycle", "localhost", false, "PutBucketLifecycle", "b", "", false, false},
		{"PUT", "/b?cors", "localhost", false, "PutBucketCors", "b", "", false, false},
		{"PUT", "/b?replication", "localhost", false, "PutBucketReplication", "b", "", false, false},
		{"GET", "/b?location", "localhost", false, "GetBucketLocation", "b", "", true, false},
		{"PUT", "/b?tagging", "localhost", false, "PutBucketTagging", "b", "", false, false},
		{"GET", "/b/k", "localhost", false, "GetObject", "b", "k", true, true},
		{"GET", "/b/dir/sub/k.txt", "localhost", false, "GetObject", "b", "dir/sub/k.txt", true, true},
		{"GET", "/b/a%20b%2Fc", "localhost", false, "GetObject", "b", "a b/c", true, true},
		{"HEAD", "/b/k", "localhost", false, "HeadObject", "b", "k", true, true},
		{"PUT", "/b/k", "localhost", false, "PutObject", "b", "k", false, true},
		{"PUT", "/b/k", "localhost", true, "CopyObject", "b", "k", false, true},
		{"DELETE", "/b/k", "localhost", false, "DeleteObject", "b", "k", false, true},
		{"POST", "/b/k?uploads", "localhost", false, "CreateMultipartUpload", "b", "k", false, true},
		{"PUT", "/b/k?partNumber=1&uploadId=u", "localhost", false, "UploadPart", "b", "k", false, true},
		{"PUT", "/b/k?partNumber=1&uploadId=u", "localhost", true, "UploadPartCopy", "b", "k", false, true},
		{"POST", "/b/k?uploadId=u", "localhost", false, "CompleteMultipartUpload", "b", "k", false, true},
		{"DELETE", "/b/k?uploadId=u", "localhost", false, "AbortMultipartUpload", "b", "k", false, true},
		{"GET", "/b/k?uploadId=u", "localhost", false, "ListParts", "b", "k", true, true},
		{"GET", "/b/k?acl", "localhost", false, "GetObjectAcl", "b", "k", true, true},
		{"PUT", "/b/k?tagging", "localhost", false, "PutObjectTagging", "b", "k", false, true},
		{"POST", "/b/k?restore", "localhost", false, "RestoreObject", "b", "k", false, true},
		{"GET", "/b/k?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Signature=00", "localhost", false, "GetObject", "b", "k", true, true},
		// Virtual-hosted style.
		{"GET", "/k", "b.s3.amazonaws.com", false, "GetObject", "b", "k", true, true},
		{"GET", "/", "my.bucket.s3.eu-west-1.amazonaws.com", false, "ListObjects", "my.bucket", "", true, true},
		{"PUT", "/x/y", "b.s3-us-west-2.amazonaws.com", false, "PutObject", "b", "x/y", false, true},
		{"GET", "/", "s3.amazonaws.com", false, "ListBuckets", "", "", true, false},
		{"PUT", "/?policy", "b.s3.local.test:7070", false, "PutBucketPolicy", "b", "", false, false},
		{"GET", "/b", "s3.local.test", false, "ListObjects", "b", "", true, true},
	}
	for _, tt := range tests {
		u, err := url.ParseRequestURI(tt.target)
		if err != nil {
			t.Fatal(err)
		}
		h := http.Header{}
		if tt.copy {
			h.Set("X-Amz-Copy-Source", "/src/k")
		}
		op := Classify(tt.method, u, h, tt.host, []string{"s3.local.test"})
		if op.EventName != tt.name || op.Bucket != tt.bucket || op.Key != tt.key || op.ReadOnly != tt.readOnly || op.Data != tt.data {
			t.Errorf("Classify(%s %s, host %s) = %+v; want %s bucket %q key %q readOnly %v data %v",
				tt.method, tt.target, tt.host, op, tt.name, tt.bucket, tt.key, tt.readOnly, tt.data)
		}
	}
}

func TestOperationAction(t *testing.T) {
	tests := []struct {
		op             Operation
		action, arnStr string
	}{
		{Operation{EventName: "GetObject", Bucket: "b", Key: "k"}, "s3:GetObject", "arn:aws:s3:::b/k"},
		{Operation{EventName: "HeadObject", Bucket: "b", Key: "k"}, "s3:GetObject", "arn:aws:s3:::b/k"},
		{Operation{EventName: "UploadPart", Bucket: "b", Key: "k"}, "s3:PutObject", "arn:aws:s3:::b/k"},
		{Operation{EventName: "ListObjectsV2", Bucket: "b"}, "s3:ListBucket", "arn:aws:s3:::b"},
		{Operation{EventName: "PutBucketPolicy", Bucket: "b"}, "s3:PutBucketPolicy", "arn:aws:s3:::b"},
		{Operation{EventName: "ListBuckets"}, "s3:ListAllMyBuckets", "*"},
	}
	for _, tt := range tests {
		if a, r := tt.op.Action(), tt.op.ResourceARN(); a != tt.action || r != tt.arnStr {
			t.Errorf("%s: action %s resource %s; want %s %s", tt.op.EventName, a, r, tt.action, tt.arnStr)
		}
	}
}

func FuzzClassify(f *testing.F) {
	f.Add("GET", "/b/k?uploadId=1", "b.s3.amazonaws.com", "")
	f.Add("PUT", "/b?policy", "localhost", "/x/y")
	f.Add("POST", "/?delete", "a..s3.amazonaws.com:1", "")
	f.Add("GET", "//k", ".s3.local.test", "")
	f.Add("\x00", "//%zz", "[::1]:80", "")
	f.Fuzz(func(t *testing.T, method, target, host, copySrc string) {
		u, err := url.Parse(target)
		if err != nil {
			return
		}
		h := http.Header{}
		if copySrc != "" {
			h.Set("X-Amz-Copy-Source", copySrc)
		}
		op := Classify(method, u, h, host, []string{"s3.local.test"})
		if op.EventName == "" {
			t.Fatalf("empty event name for %q %q %q", method, target, host)
		}
		if op.Key != "" && op.Bucket == "" {
			t.Fatalf("key %q without bucket for %q %q", op.Key, target, host)
		}
		if op.Key != "" && !op.Data {
			t.Fatalf("object operation %s not a data event", op.EventName)
		}
		_ = op.Action()
		_ = op.ResourceARN()
	})
}

func TestSourceIP(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	tests := []struct {
		peer, xff string
		trusted   []netip.Prefix
		want      string
	}{
		{"192.0.2.1:5000", "203.0.113.9", trusted, "192.0.2.1"},  // untrusted peer: XFF ignored
		{"10.1.1.1:5000", "203.0.113.9", trusted, "203.0.113.9"}, // trusted proxy
		{"10.1.1.1:5000", "203.0.113.9, 10.2.2.2", trusted, "203.0.113.9"},
		{"10.1.1.1:5000", "", trusted, "10.1.1.1"},
		{"10.1.1.1:5000", "garbage", trusted, "10.1.1.1"},
		{"10.1.1.1:5000", "203.0.113.9", nil, "10.1.1.1"},
	}
	for _, tt := range tests {
		r := &http.Request{RemoteAddr: tt.peer, Header: http.Header{}}
		if tt.xff != "" {
			r.Header.Set("X-Forwarded-For", tt.xff)
		}
		if got := sourceIP(r, tt.trusted); got != tt.want {
			t.Errorf("sourceIP(peer %s, XFF %q) = %s; want %s", tt.peer, tt.xff, got, tt.want)
		}
	}
}
