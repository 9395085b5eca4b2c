package cloudtrail

import (
	"context"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/opentrail/opentrail/internal/server"
)

// Tag is a key-value pair on a trail.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value,omitempty"`
}

// Tag limits.
const (
	MaxTagsPerTrail = 50
	maxTagKeyLen    = 128
	maxTagValueLen  = 256
	maxListTagsIDs  = 20
)

// tagCharsRE is the character set AWS allows in tag keys and values: letters, spaces,
// numbers and _ . : / = + - @.
var tagCharsRE = regexp.MustCompile(`^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$`)

func checkTag(t Tag) error {
	if n := utf8.RuneCountInString(t.Key); n < 1 || n > maxTagKeyLen {
		return errTag("Tag key must be 1 to %d characters long: %q has %d.", maxTagKeyLen, t.Key, n)
	}
	if !utf8.ValidString(t.Key) || !tagCharsRE.MatchString(t.Key) {
		return errTag("Tag key %q contains characters that are not allowed. Keys may contain letters, numbers, spaces and _ . : / = + - @.", t.Key)
	}
	if strings.HasPrefix(strings.ToLower(t.Key), "aws:") {
		return errTag("Tag key %q is not allowed: keys beginning with aws: are reserved for AWS use.", t.Key)
	}
	if n := utf8.RuneCountInString(t.Value); n > maxTagValueLen {
		return errTag("Tag value for key %q must be at most %d characters long; it has %d.", t.Key, maxTagValueLen, n)
	}
	if !utf8.ValidString(t.Value) || !tagCharsRE.MatchString(t.Value) {
		return errTag("Tag value for key %q contains characters that are not allowed. Values may contain letters, numbers, spaces and _ . : / = + - @.", t.Key)
	}
	return nil
}

// mergeTags adds tags to existing ones (a key present already gets the new value) and checks
// every new tag and the limit of 50 tags per trail.
func mergeTags(existing, add []Tag) ([]Tag, error) {
	out := append([]Tag(nil), existing...)
	for _, t := range add {
		if err := checkTag(t); err != nil {
			return nil, err
		}
		replaced := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i].Value, replaced = t.Value, true
				break
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	if len(out) > MaxTagsPerTrail {
		return nil, errorf(CodeTagsLimitExceeded, "A trail can have at most %d tags; this request would give it %d.", MaxTagsPerTrail, len(out))
	}
	return out, nil
}

// removeTags removes the tags with the given keys; a tag given with a value is removed only
// when its value matches.
func removeTags(existing, rm []Tag) []Tag {
	out := existing[:0:0]
	for _, t := range existing {
		drop := false
		for _, r := range rm {
			if r.Key == t.Key && (r.Value == "" || r.Value == t.Value) {
				drop = true
				break
			}
		}
		if !drop {
			out = append(out, t)
		}
	}
	return out
}

type tagsInput struct {
	ResourceID string `json:"ResourceId"`
	TagsList   []Tag  `json:"TagsList"`
}

func tagResource(c *server.Call, in *tagsInput) string {
	if in.ResourceID == "" {
		return "*"
	}
	return in.ResourceID
}

// tagTarget resolves a ResourceId: the ARN of a trail of the caller's account. ARNs of event
// data stores, channels and dashboards are refused, as this server has none.
func (s *Service) tagTarget(c *server.Call, id string) (*Trail, error) {
	parts := strings.SplitN(id, ":", 6)
	if len(parts) == 6 && parts[0] == "arn" && parts[2] == "cloudtrail" {
		for _, kind := range []string{"eventdatastore/", "channel/", "dashboard/"} {
			if strings.HasPrefix(parts[5], kind) {
				return nil, errorf(CodeResourceTypeNotSupported, "Tags on %s resources are not supported by this server yet: it has no event data stores, channels or dashboards. ResourceId: %s", strings.TrimSuffix(kind, "/"), id)
			}
		}
	}
	_, region, acct, name, ok := splitTrailARN(id)
	if !ok {
		return nil, errorf(CodeCloudTrailARNInvalid, "ResourceId %q is not a valid trail ARN. A trail ARN has the form arn:aws:cloudtrail:<region>:<account-id>:trail/<name>.", id)
	}
	if acct != c.Account() || !strings.HasPrefix(id, "arn:aws:") {
		return nil, errorf(CodeResourceNotFound, "Resource not found: %s", id)
	}
	t, found, err := s.load(acct, region, name)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errorf(CodeResourceNotFound, "Resource not found: %s", id)
	}
	return t, nil
}

func (s *Service) changeTags(c *server.Call, op string, in *tagsInput, fn func(t *Trail) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.tagTarget(c, in.ResourceID)
	if err != nil {
		return err
	}
	if t.HomeRegion != c.Region {
		return errHomeRegion(op, t.ARN(), t.HomeRegion, c.Region)
	}
	if err := fn(t); err != nil {
		return err
	}
	t.UpdatedAt = s.clock()
	if err := s.save(t); err != nil {
		return err
	}
	c.AddResource(resourceType, t.ARN())
	return nil
}

func (s *Service) addTags(ctx context.Context, c *server.Call, in *tagsInput) (*server.NoOutput, error) {
	err := s.changeTags(c, "AddTags", in, func(t *Trail) error {
		tags, err := mergeTags(t.Tags, in.TagsList)
		if err != nil {
			return err
		}
		t.Tags = tags
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &server.NoOutput{}, nil
}

func (s *Service) removeTags(ctx context.Context, c *server.Call, in *tagsInput) (*server.NoOutput, error) {
	for _, t := range in.TagsList {
		if n := utf8.RuneCountInString(t.Key); n < 1 || n > maxTagKeyLen {
			return nil, errTag("Tag key must be 1 to %d characters long: %q has %d.", maxTagKeyLen, t.Key, n)
		}
	}
	err := s.changeTags(c, "RemoveTags", in, func(t *Trail) error {
		t.Tags = removeTags(t.Tags, in.TagsList)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &server.NoOutput{}, nil
}

type listTagsInput struct {
	ResourceIDList []string `json:"ResourceIdList"`
	NextToken      string   `json:"NextToken,omitempty"`
}

type resourceTag struct {
	ResourceID string `json:"ResourceId"`
	TagsList   []Tag  `json:"TagsList"`
}

type listTagsOutput struct {
	ResourceTagList []resourceTag `json:"ResourceTagList"`
}

// listTags lists the tags of up to 20 trails, named by ARN. Trails of other regions can be
// read. NextToken is reserved by AWS and ignored.
func (s *Service) listTags(ctx context.Context, c *server.Call, in *listTagsInput) (*listTagsOutput, error) {
	if len(in.ResourceIDList) == 0 || len(in.ResourceIDList) > maxListTagsIDs {
		return nil, errorf(CodeInvalidParameter, "ResourceIdList must hold 1 to %d ARNs; it has %d.", maxListTagsIDs, len(in.ResourceIDList))
	}
	out := &listTagsOutput{ResourceTagList: []resourceTag{}}
	for _, id := range in.ResourceIDList {
		t, err := s.tagTarget(c, id)
		if err != nil {
			return nil, err
		}
		out.ResourceTagList = append(out.ResourceTagList, resourceTag{ResourceID: t.ARN(), TagsList: nonNil(t.Tags)})
	}
	return out, nil
}
