package events

import (
	"context"
	"strings"

	"github.com/opentrail/opentrail/internal/server"
)

const maxTags = 50

func orStar(s string) string {
	if s == "" {
		return "*"
	}
	return s
}

// mergeTags adds or replaces tags, checking AWS's constraints.
func mergeTags(have, add []Tag) ([]Tag, error) {
	out := append([]Tag(nil), have...)
	for _, t := range add {
		if len(t.Key) < 1 || len(t.Key) > 128 {
			return nil, errConstraint(t.Key, "tags.member.key", "Member must have length less than or equal to 128")
		}
		if len(t.Value) > 256 {
			return nil, errConstraint(t.Value, "tags.member.value", "Member must have length less than or equal to 256")
		}
		if strings.HasPrefix(t.Key, "aws:") {
			return nil, errorf(CodeValidation, "Invalid tag key: tag keys beginning with aws: are reserved.")
		}
		replaced := false
		for i := range out {
			if out[i].Key == t.Key {
				out[i].Value, replaced = t.Value, true
			}
		}
		if !replaced {
			out = append(out, t)
		}
	}
	if len(out) > maxTags {
		return nil, errorf(CodeLimitExceeded, "The requested resource exceeds the maximum number allowed.")
	}
	return out, nil
}

// taggable finds the rule or bus an ARN names, in the caller's account and region; s.mu must
// be held. It returns the bus and, for a rule, the rule.
func (s *Service) taggableLocked(c *server.Call, arn string) (*bus, *rule, error) {
	prefix := "arn:aws:events:" + c.Region + ":" + c.Account() + ":"
	if !strings.HasPrefix(arn, prefix) {
		return nil, nil, errorf(CodeResourceNotFound, "Resource %s does not exist.", arn)
	}
	rest := strings.TrimPrefix(arn, prefix)
	switch {
	case strings.HasPrefix(rest, "event-bus/"):
		b := s.getBusLocked(c.Account(), c.Region, strings.TrimPrefix(rest, "event-bus/"))
		if b == nil {
			return nil, nil, errorf(CodeResourceNotFound, "Resource %s does not exist.", arn)
		}
		return b, nil, nil
	case strings.HasPrefix(rest, "rule/"):
		name, busName := strings.TrimPrefix(rest, "rule/"), DefaultBus
		if i := strings.LastIndexByte(name, '/'); i >= 0 {
			busName, name = name[:i], name[i+1:]
		}
		b := s.getBusLocked(c.Account(), c.Region, busName)
		if b == nil || b.rules[name] == nil {
			return nil, nil, errorf(CodeResourceNotFound, "Rule %s does not exist on EventBus %s.", name, busName)
		}
		return b, b.rules[name], nil
	}
	return nil, nil, errorf(CodeResourceNotFound, "Resource %s does not exist.", arn)
}

// setTagsLocked stores new tags on a bus or a rule; s.mu must be held.
// tagsOf returns the tags of the resource taggableLocked found: the rule's, or the bus's.
func tagsOf(b *bus, r *rule) []Tag {
	if r != nil {
		return r.Tags
	}
	return b.Tags
}

func (s *Service) setTagsLocked(c *server.Call, b *bus, r *rule, tags []Tag) error {
	ref := busRef{c.Account(), c.Region, b.Name}
	if r != nil {
		nr := r.clone()
		nr.Tags = tags
		if err := s.store.Put(ruleKey(ref, nr.Name), nr); err != nil {
			return internal("put rule", err)
		}
		b.rules[nr.Name] = nr
		b.invalidate()
		return nil
	}
	if b.Name == DefaultBus && b.Created.IsZero() {
		b.Created = s.now().UTC()
	}
	old := b.Tags
	b.Tags = tags
	if err := s.store.Put(busKey(ref), b); err != nil {
		b.Tags = old
		return internal("put bus", err)
	}
	return nil
}

type tagResourceInput struct {
	ResourceARN string `json:"ResourceARN"`
	Tags        []Tag  `json:"Tags"`
}

func (s *Service) tagResource(ctx context.Context, c *server.Call, in *tagResourceInput) (*server.NoOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, r, err := s.taggableLocked(c, in.ResourceARN)
	if err != nil {
		return nil, err
	}
	have := tagsOf(b, r)
	tags, err := mergeTags(have, in.Tags)
	if err != nil {
		return nil, err
	}
	return nil, s.setTagsLocked(c, b, r, tags)
}

type untagResourceInput struct {
	ResourceARN string   `json:"ResourceARN"`
	TagKeys     []string `json:"TagKeys"`
}

func (s *Service) untagResource(ctx context.Context, c *server.Call, in *untagResourceInput) (*server.NoOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, r, err := s.taggableLocked(c, in.ResourceARN)
	if err != nil {
		return nil, err
	}
	have := tagsOf(b, r)
	var tags []Tag
	for _, t := range have {
		drop := false
		for _, k := range in.TagKeys {
			if t.Key == k {
				drop = true
			}
		}
		if !drop {
			tags = append(tags, t)
		}
	}
	return nil, s.setTagsLocked(c, b, r, tags)
}

type listTagsInput struct {
	ResourceARN string `json:"ResourceARN"`
}

type listTagsOutput struct {
	Tags []Tag `json:"Tags"`
}

func (s *Service) listTagsForResource(ctx context.Context, c *server.Call, in *listTagsInput) (*listTagsOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, r, err := s.taggableLocked(c, in.ResourceARN)
	if err != nil {
		return nil, err
	}
	return &listTagsOutput{Tags: append([]Tag{}, tagsOf(b, r)...)}, nil
}
