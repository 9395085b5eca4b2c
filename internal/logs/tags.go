package logs

import (
	"context"
	"encoding/json"
	"maps"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/server"
)

// Tag limits.
const (
	MaxTags        = 50
	maxTagKeyLen   = 128
	maxTagValueLen = 256
)

var (
	tagKeyRE   = regexp.MustCompile(`^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$`)
	tagValueRE = regexp.MustCompile(`^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)
)

// checkTags validates a tags map (1 to 50 entries) of the member named member.
func checkTags(member string, tags map[string]string) error {
	if n := len(tags); n < 1 || n > MaxTags {
		if n < 1 {
			return errConstraint("{}", member, "Member must have length greater than or equal to 1")
		}
		return errConstraint(n, member, "Member must have length less than or equal to 50")
	}
	for _, k := range sortedKeys(tags) {
		if err := checkTagKey(member+".key", k, true); err != nil {
			return err
		}
		v := tags[k]
		if utf8.RuneCountInString(v) > maxTagValueLen {
			return errConstraint(v, member+".value", "Member must have length less than or equal to 256")
		}
		if !tagValueRE.MatchString(v) {
			return errConstraint(v, member+".value", `Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$`)
		}
	}
	return nil
}

// checkTagKey validates a tag key; reserved refuses the aws: prefix (for keys being set).
func checkTagKey(member, k string, reserved bool) error {
	if n := utf8.RuneCountInString(k); n < 1 || n > maxTagKeyLen {
		return lengthError(k, member, 1, maxTagKeyLen)
	}
	if !tagKeyRE.MatchString(k) {
		return errConstraint(k, member, `Member must satisfy regular expression pattern: ^([\p{L}\p{Z}\p{N}_.:/=+\-@]+)$`)
	}
	if reserved && strings.HasPrefix(strings.ToLower(k), "aws:") {
		return errInvalid("Tag keys beginning with aws: are reserved for AWS use: %s", k)
	}
	return nil
}

// tagGroup resolves a tagging resourceArn to a group of the caller: log groups are the only
// taggable resources this server has.
func tagGroup(c *server.Call, arn string) (string, error) {
	if n := len(arn); n < 1 || n > 1011 {
		return "", lengthError(arn, "resourceArn", 1, 1011)
	}
	region, acct, name, ok := parseGroupARN(arn)
	if !ok {
		parts := strings.SplitN(arn, ":", 7)
		if len(parts) >= 6 && parts[0] == "arn" && parts[2] == "logs" {
			return "", errorf(CodeResourceNotFound, "The specified resource does not exist: %s. Log groups are the only taggable resources of this server.", arn)
		}
		return "", errInvalid("Invalid resource ARN: %s. A log group's ARN has the form arn:aws:logs:<region>:<account-id>:log-group:<name>.", arn)
	}
	if acct != c.Account() || region != c.Region {
		return "", errGroupNotFound()
	}
	return name, checkGroupName("resourceArn", name)
}

func (s *Service) addTags(c *server.Call, group string, tags map[string]string) error {
	return s.changeGroup(c, group, func(g *groupRecord) error {
		next := maps.Clone(g.Tags)
		if next == nil {
			next = map[string]string{}
		}
		maps.Copy(next, tags)
		if len(next) > MaxTags {
			return errorf(CodeTooManyTags, "A resource can have no more than %d tags; this request would give %s %d.", MaxTags, group, len(next))
		}
		g.Tags = next
		return nil
	})
}

func (s *Service) removeTags(c *server.Call, group string, keys []string) error {
	return s.changeGroup(c, group, func(g *groupRecord) error {
		for _, k := range keys {
			delete(g.Tags, k)
		}
		if len(g.Tags) == 0 {
			g.Tags = nil
		}
		return nil
	})
}

func (s *Service) groupTags(c *server.Call, group string) (map[string]string, error) {
	g, err := s.mustGroup(c.Account(), c.Region, group)
	if err != nil {
		return nil, err
	}
	if g.Tags == nil {
		return map[string]string{}, nil
	}
	return g.Tags, nil
}

type tagResourceInput struct {
	ResourceArn string            `json:"resourceArn"`
	Tags        map[string]string `json:"tags"`
}

func (s *Service) tagResource(ctx context.Context, c *server.Call, in *tagResourceInput) (*server.NoOutput, error) {
	group, err := tagGroup(c, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if err := checkTags("tags", in.Tags); err != nil {
		return nil, err
	}
	if err := s.addTags(c, group, in.Tags); err != nil {
		return nil, err
	}
	return &server.NoOutput{}, nil
}

type untagResourceInput struct {
	ResourceArn string   `json:"resourceArn"`
	TagKeys     []string `json:"tagKeys"`
}

func checkTagKeys(member string, keys []string) error {
	if len(keys) > MaxTags {
		return errConstraint(len(keys), member, "Member must have length less than or equal to 50")
	}
	for _, k := range keys {
		if err := checkTagKey(member+".member", k, false); err != nil {
			return err
		}
	}
	return nil
}

func (s *Service) untagResource(ctx context.Context, c *server.Call, in *untagResourceInput) (*server.NoOutput, error) {
	group, err := tagGroup(c, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	if in.TagKeys == nil {
		return nil, errInvalid("1 validation error detected: Value null at 'tagKeys' failed to satisfy constraint: Member must not be null")
	}
	if err := checkTagKeys("tagKeys", in.TagKeys); err != nil {
		return nil, err
	}
	if err := s.removeTags(c, group, in.TagKeys); err != nil {
		return nil, err
	}
	return &server.NoOutput{}, nil
}

type listTagsForResourceInput struct {
	ResourceArn string `json:"resourceArn"`
}

type tagsOutput struct {
	Tags map[string]string `json:"tags"`
}

func (s *Service) listTagsForResource(ctx context.Context, c *server.Call, in *listTagsForResourceInput) (*tagsOutput, error) {
	group, err := tagGroup(c, in.ResourceArn)
	if err != nil {
		return nil, err
	}
	tags, err := s.groupTags(c, group)
	if err != nil {
		return nil, err
	}
	return &tagsOutput{Tags: tags}, nil
}

type tagLogGroupInput struct {
	LogGroupName string            `json:"logGroupName"`
	Tags         map[string]string `json:"tags"`
}

func (s *Service) tagLogGroup(ctx context.Context, c *server.Call, in *tagLogGroupInput) (*server.NoOutput, error) {
	if err := checkGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	if err := checkTags("tags", in.Tags); err != nil {
		return nil, err
	}
	if err := s.addTags(c, in.LogGroupName, in.Tags); err != nil {
		return nil, err
	}
	return &server.NoOutput{}, nil
}

type untagLogGroupInput struct {
	LogGroupName string   `json:"logGroupName"`
	Tags         []string `json:"tags"`
}

func (s *Service) untagLogGroup(ctx context.Context, c *server.Call, in *untagLogGroupInput) (*server.NoOutput, error) {
	if err := checkGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	if len(in.Tags) == 0 {
		return nil, errConstraint("[]", "tags", "Member must have length greater than or equal to 1")
	}
	if err := checkTagKeys("tags", in.Tags); err != nil {
		return nil, err
	}
	if err := s.removeTags(c, in.LogGroupName, in.Tags); err != nil {
		return nil, err
	}
	return &server.NoOutput{}, nil
}

func (s *Service) listTagsLogGroup(ctx context.Context, c *server.Call, in *groupNameInput) (*tagsOutput, error) {
	if err := checkGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	tags, err := s.groupTags(c, in.LogGroupName)
	if err != nil {
		return nil, err
	}
	return &tagsOutput{Tags: tags}, nil
}

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

func isNotFound(err error) bool {
	e := opentrail.ErrorOf(err)
	return e != nil && e.Code == CodeResourceNotFound
}
