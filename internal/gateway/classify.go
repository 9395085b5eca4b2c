package gateway

import (
	"net"
	"net/http"
	"net/url"
	"strings"
)

// Operation is what the classifier learns of an S3 REST request: the API action AWS would
// name it by, the bucket and key it addresses, and how CloudTrail records it.
type Operation struct {
	EventName string // e.g. GetObject; "" never (unrecognised requests are named by method)
	Bucket    string
	Key       string
	ReadOnly  bool
	// Data marks object-level operations, which CloudTrail records as data events
	// (eventCategory Data, managementEvent false); the rest are management events.
	Data bool
	// VirtualHosted reports that the bucket came from the Host header.
	VirtualHosted bool
}

// Action is the IAM action of the operation, e.g. s3:GetObject. Operations whose IAM action
// differs from the API name are mapped (ListObjectsV2 is s3:ListBucket, HeadObject is
// s3:GetObject, multipart parts are s3:PutObject, ...).
func (o Operation) Action() string {
	if a, ok := iamActions[o.EventName]; ok {
		return "s3:" + a
	}
	return "s3:" + o.EventName
}

// ResourceARN is the ARN the IAM action applies to: the object, the bucket, or * for
// ListBuckets.
func (o Operation) ResourceARN() string {
	switch {
	case o.Bucket == "":
		return "*"
	case o.Key != "" && objectAction(o.EventName):
		return "arn:aws:s3:::" + o.Bucket + "/" + o.Key
	}
	return "arn:aws:s3:::" + o.Bucket
}

var iamActions = map[string]string{
	"ListObjects":                "ListBucket",
	"ListObjectsV2":              "ListBucket",
	"HeadBucket":                 "ListBucket",
	"ListObjectVersions":         "ListBucketVersions",
	"ListMultipartUploads":       "ListBucketMultipartUploads",
	"ListBuckets":                "ListAllMyBuckets",
	"HeadObject":                 "GetObject",
	"CopyObject":                 "PutObject",
	"UploadPart":                 "PutObject",
	"UploadPartCopy":             "PutObject",
	"CreateMultipartUpload":      "PutObject",
	"CompleteMultipartUpload":    "PutObject",
	"AbortMultipartUpload":       "AbortMultipartUpload",
	"ListParts":                  "ListMultipartUploadParts",
	"DeleteObjects":              "DeleteObject",
	"GetBucketPolicyStatus":      "GetBucketPolicyStatus",
	"PutBucketLifecycle":         "PutLifecycleConfiguration",
	"GetBucketLifecycle":         "GetLifecycleConfiguration",
	"DeleteBucketLifecycle":      "PutLifecycleConfiguration",
	"PutBucketCors":              "PutBucketCORS",
	"GetBucketCors":              "GetBucketCORS",
	"DeleteBucketCors":           "PutBucketCORS",
	"PutBucketReplication":       "PutReplicationConfiguration",
	"GetBucketReplication":       "GetReplicationConfiguration",
	"DeleteBucketReplication":    "PutReplicationConfiguration",
	"PutBucketEncryption":        "PutEncryptionConfiguration",
	"GetBucketEncryption":        "GetEncryptionConfiguration",
	"DeleteBucketEncryption":     "PutEncryptionConfiguration",
	"DeleteBucketTagging":        "PutBucketTagging",
	"PutObjectLockConfiguration": "PutBucketObjectLockConfiguration",
	"GetObjectLockConfiguration": "GetBucketObjectLockConfiguration",
}

func objectAction(name string) bool {
	switch name {
	case "ListObjects", "ListObjectsV2", "ListObjectVersions", "ListMultipartUploads", "DeleteObjects":
		return false
	}
	return true
}

// bucketSubresources maps a bucket-level subresource query parameter to the event names of
// GET, PUT, DELETE and POST, as AWS names them in CloudTrail ("" when the method does not apply).
var bucketSubresources = []struct {
	param               string
	get, put, del, post string
}{
	{"policyStatus", "GetBucketPolicyStatus", "", "", ""},
	{"policy", "GetBucketPolicy", "PutBucketPolicy", "DeleteBucketPolicy", ""},
	{"acl", "GetBucketAcl", "PutBucketAcl", "", ""},
	{"versioning", "GetBucketVersioning", "PutBucketVersioning", "", ""},
	{"lifecycle", "GetBucketLifecycle", "PutBucketLifecycle", "DeleteBucketLifecycle", ""},
	{"cors", "GetBucketCors", "PutBucketCors", "DeleteBucketCors", ""},
	{"replication", "GetBucketReplication", "PutBucketReplication", "DeleteBucketReplication", ""},
	{"location", "GetBucketLocation", "", "", ""},
	{"tagging", "GetBucketTagging", "PutBucketTagging", "DeleteBucketTagging", ""},
	{"encryption", "GetBucketEncryption", "PutBucketEncryption", "DeleteBucketEncryption", ""},
	{"website", "GetBucketWebsite", "PutBucketWebsite", "DeleteBucketWebsite", ""},
	{"logging", "GetBucketLogging", "PutBucketLogging", "", ""},
	{"notification", "GetBucketNotification", "PutBucketNotification", "", ""},
	{"requestPayment", "GetBucketRequestPayment", "PutBucketRequestPayment", "", ""},
	{"object-lock", "GetObjectLockConfiguration", "PutObjectLockConfiguration", "", ""},
	{"ownershipControls", "GetBucketOwnershipControls", "PutBucketOwnershipControls", "DeleteBucketOwnershipControls", ""},
	{"publicAccessBlock", "GetPublicAccessBlock", "PutPublicAccessBlock", "DeletePublicAccessBlock", ""},
	{"accelerate", "GetBucketAccelerateConfiguration", "PutBucketAccelerateConfiguration", "", ""},
	{"analytics", "GetBucketAnalyticsConfiguration", "PutBucketAnalyticsConfiguration", "DeleteBucketAnalyticsConfiguration", ""},
	{"inventory", "GetBucketInventoryConfiguration", "PutBucketInventoryConfiguration", "DeleteBucketInventoryConfiguration", ""},
	{"metrics", "GetBucketMetricsConfiguration", "PutBucketMetricsConfiguration", "DeleteBucketMetricsConfiguration", ""},
	{"intelligent-tiering", "GetBucketIntelligentTieringConfiguration", "PutBucketIntelligentTieringConfiguration", "DeleteBucketIntelligentTieringConfiguration", ""},
	{"uploads", "ListMultipartUploads", "", "", ""},
	{"versions", "ListObjectVersions", "", "", ""},
	{"delete", "", "", "", "DeleteObjects"},
}

// objectSubresources is the same for object-level subresources.
var objectSubresources = []struct {
	param               string
	get, put, del, post string
}{
	{"acl", "GetObjectAcl", "PutObjectAcl", "", ""},
	{"tagging", "GetObjectTagging", "PutObjectTagging", "DeleteObjectTagging", ""},
	{"retention", "GetObjectRetention", "PutObjectRetention", "", ""},
	{"legal-hold", "GetObjectLegalHold", "PutObjectLegalHold", "", ""},
	{"attributes", "GetObjectAttributes", "", "", ""},
	{"torrent", "GetObjectTorrent", "", "", ""},
	{"restore", "", "", "", "RestoreObject"},
	{"select", "", "", "", "SelectObjectContent"},
}

// dataBucketOps are the bucket-level operations CloudTrail records as data events (object
// listings and multipart-upload listings); every object-level operation is a data event too.
var dataBucketOps = map[string]bool{
	"ListObjects": true, "ListObjectsV2": true, "ListObjectVersions": true,
	"ListMultipartUploads": true, "DeleteObjects": true,
}

// Classify names an S3 REST request as AWS does, from its method, URL and headers (only
// x-amz-copy-source is looked at). host is the Host header; domains are the
// base domains of virtual-hosted-style addressing besides AWS's own (s3.amazonaws.com,
// s3.<region>.amazonaws.com, s3-<region>.amazonaws.com): a host <bucket>.<domain> addresses
// the bucket. Any other host is path-style: /<bucket>/<key>. Classify never fails; a request
// it cannot name is named after its method and path shape (e.g. "PostObject").
func Classify(method string, u *url.URL, h http.Header, host string, domains []string) Operation {
	var op Operation
	isCopy := h.Get("X-Amz-Copy-Source") != ""
	path := u.Path
	if u.RawPath != "" {
		if p, err := url.PathUnescape(u.RawPath); err == nil {
			path = p
		}
	}
	path = strings.TrimPrefix(path, "/")
	if b := virtualBucket(host, domains); b != "" {
		op.Bucket, op.Key, op.VirtualHosted = b, path, true
	} else if i := strings.IndexByte(path, '/'); i >= 0 {
		op.Bucket, op.Key = path[:i], path[i+1:]
	} else {
		op.Bucket = path
	}
	if op.Bucket == "" {
		op.Key, op.VirtualHosted = "", false
	}
	q := u.Query()
	has := func(k string) bool { _, ok := q[k]; return ok }
	method = strings.ToUpper(method)

	pick := func(get, put, del, post string) string {
		switch method {
		case "GET", "HEAD":
			return get
		case "PUT":
			return put
		case "DELETE":
			return del
		case "POST":
			return post
		}
		return ""
	}
	switch {
	case op.Bucket == "":
		op.EventName = "ListBuckets"
		if method != "GET" && method != "HEAD" {
			op.EventName = fallbackName(method, "Service")
		}
	case op.Key == "":
		for _, s := range bucketSubresources {
			if has(s.param) {
				op.EventName = pick(s.get, s.put, s.del, s.post)
				break
			}
		}
		if op.EventName == "" {
			switch method {
			case "GET":
				op.EventName = "ListObjects"
				if q.Get("list-type") == "2" {
					op.EventName = "ListObjectsV2"
				}
			case "HEAD":
				op.EventName = "HeadBucket"
			case "PUT":
				op.EventName = "CreateBucket"
			case "DELETE":
				op.EventName = "DeleteBucket"
			case "POST":
				op.EventName = "PostObject" // browser-based upload (form POST)
			default:
				op.EventName = fallbackName(method, "Bucket")
			}
		}
		op.Data = dataBucketOps[op.EventName] || op.EventName == "PostObject"
	default:
		op.Data = true
		for _, s := range objectSubresources {
			if has(s.param) {
				op.EventName = pick(s.get, s.put, s.del, s.post)
				break
			}
		}
		if op.EventName == "" {
			uploadID := has("uploadId")
			switch method {
			case "GET":
				op.EventName = "GetObject"
				if uploadID {
					op.EventName = "ListParts"
				}
			case "HEAD":
				op.EventName = "HeadObject"
			case "PUT":
				switch {
				case uploadID && has("partNumber") && isCopy:
					op.EventName = "UploadPartCopy"
				case uploadID && has("partNumber"):
					op.EventName = "UploadPart"
				case isCopy:
					op.EventName = "CopyObject"
				default:
					op.EventName = "PutObject"
				}
			case "DELETE":
				op.EventName = "DeleteObject"
				if uploadID {
					op.EventName = "AbortMultipartUpload"
				}
			case "POST":
				switch {
				case has("uploads"):
					op.EventName = "CreateMultipartUpload"
				case uploadID:
					op.EventName = "CompleteMultipartUpload"
				default:
					op.EventName = fallbackName(method, "Object")
				}
			default:
				op.EventName = fallbackName(method, "Object")
			}
		}
	}
	if op.EventName == "" {
		op.EventName = fallbackName(method, "Bucket")
	}
	op.ReadOnly = readOnly(op.EventName)
	return op
}

func fallbackName(method, level string) string {
	if method == "" {
		return "Unknown" + level + "Operation"
	}
	m := strings.ToLower(method)
	clean := make([]byte, 0, len(m))
	for i := 0; i < len(m) && len(clean) < 16; i++ {
		if c := m[i]; c >= 'a' && c <= 'z' {
			clean = append(clean, c)
		}
	}
	if len(clean) == 0 {
		return "Unknown" + level + "Operation"
	}
	clean[0] -= 'a' - 'A'
	return string(clean) + level
}

func readOnly(name string) bool {
	for _, p := range []string{"Get", "List", "Head", "Select"} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	return false
}

// virtualBucket returns the bucket named by a virtual-hosted-style Host, or "".
func virtualBucket(host string, domains []string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	for _, d := range domains {
		d = strings.ToLower(strings.TrimPrefix(d, "."))
		if d != "" && strings.HasSuffix(host, "."+d) {
			return host[:len(host)-len(d)-1]
		}
	}
	// AWS endpoints: <bucket>.s3.amazonaws.com, <bucket>.s3.<region>.amazonaws.com,
	// <bucket>.s3-<region>.amazonaws.com (and dualstack variants, which name the bucket the same way).
	if !strings.HasSuffix(host, ".amazonaws.com") {
		return ""
	}
	labels := strings.Split(strings.TrimSuffix(host, ".amazonaws.com"), ".")
	for i := 1; i < len(labels); i++ {
		if labels[i] == "s3" || strings.HasPrefix(labels[i], "s3-") {
			return strings.Join(labels[:i], ".")
		}
	}
	return ""
}
