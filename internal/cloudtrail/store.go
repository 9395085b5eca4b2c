package cloudtrail

import (
	"encoding/json"
	"errors"
	"strings"
	"time"

	"github.com/opentrail/opentrail/internal/kv"
)

// Trail is a trail as OpenTrail keeps it: configuration, selectors, tags and logging status.
// It is stored as one JSON document (these field names) under
// cloudtrail/<account>/trail/<home region>/<name>, so one write changes a trail atomically.
type Trail struct {
	AccountID                  string `json:"AccountId"`
	Name                       string `json:"Name"`
	HomeRegion                 string `json:"HomeRegion"`
	S3BucketName               string `json:"S3BucketName"`
	S3KeyPrefix                string `json:"S3KeyPrefix,omitempty"`
	IncludeGlobalServiceEvents bool   `json:"IncludeGlobalServiceEvents"`
	IsMultiRegionTrail         bool   `json:"IsMultiRegionTrail"`
	LogFileValidationEnabled   bool   `json:"LogFileValidationEnabled"`
	IsOrganizationTrail        bool   `json:"IsOrganizationTrail"`
	// Destinations that need services OpenTrail does not host yet; always empty for now.
	SnsTopicARN               string `json:"SnsTopicARN,omitempty"`
	CloudWatchLogsLogGroupArn string `json:"CloudWatchLogsLogGroupArn,omitempty"`
	CloudWatchLogsRoleArn     string `json:"CloudWatchLogsRoleArn,omitempty"`
	KmsKeyID                  string `json:"KmsKeyId,omitempty"`

	// Exactly one of EventSelectors and AdvancedEventSelectors is non-empty.
	EventSelectors          []EventSelector         `json:"EventSelectors,omitempty"`
	AdvancedEventSelectors  []AdvancedEventSelector `json:"AdvancedEventSelectors,omitempty"`
	HasCustomEventSelectors bool                    `json:"HasCustomEventSelectors"`
	InsightSelectors        []InsightSelector       `json:"InsightSelectors,omitempty"`
	Tags                    []Tag                   `json:"Tags,omitempty"`

	Status    Status    `json:"Status"`
	CreatedAt time.Time `json:"CreatedAt"`
	UpdatedAt time.Time `json:"UpdatedAt"`
}

// ARN is the trail's ARN; its region is the home region.
func (t *Trail) ARN() string { return TrailARN(t.HomeRegion, t.AccountID, t.Name) }

// Covers reports whether the trail records events that happen in region: its home region, or
// every region for a multi-region trail.
func (t *Trail) Covers(region string) bool {
	return t.IsMultiRegionTrail || t.HomeRegion == region
}

// visibleIn reports whether the trail shows in region's trail lists: in its home region, and
// as a shadow trail in every other region when it is multi-region.
func (t *Trail) visibleIn(region string) bool { return t.Covers(region) }

const keyPrefix = "cloudtrail/"

func trailKey(acct, region, name string) string {
	return keyPrefix + acct + "/trail/" + region + "/" + name
}

func accountPrefix(acct string) string { return keyPrefix + acct + "/trail/" }

// load reads a trail; ok is false when there is none.
func (s *Service) load(acct, region, name string) (*Trail, bool, error) {
	var t Trail
	err := s.store.Get(trailKey(acct, region, name), &t)
	if errors.Is(err, kv.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, internal("load trail", err)
	}
	return &t, true, nil
}

func (s *Service) save(t *Trail) error {
	if err := s.store.Put(trailKey(t.AccountID, t.HomeRegion, t.Name), t); err != nil {
		return internal("save trail", err)
	}
	return nil
}

func (s *Service) remove(t *Trail) error {
	if err := s.store.Delete(trailKey(t.AccountID, t.HomeRegion, t.Name)); err != nil {
		return internal("delete trail", err)
	}
	return nil
}

// accountTrails returns every trail of an account, all regions, in key order (home region,
// then name).
func (s *Service) accountTrails(acct string) ([]*Trail, error) {
	var out []*Trail
	err := s.store.Scan(accountPrefix(acct), func(key string, value []byte) error {
		var t Trail
		if err := json.Unmarshal(value, &t); err != nil {
			return internal("decode trail "+key, err)
		}
		out = append(out, &t)
		return nil
	})
	if err != nil {
		return nil, internal("list trails", err)
	}
	return out, nil
}

// Trails returns every trail of an account, in every region, ordered by home region and name.
func (s *Service) Trails(acct string) ([]Trail, error) {
	ts, err := s.accountTrails(acct)
	if err != nil {
		return nil, err
	}
	out := make([]Trail, len(ts))
	for i, t := range ts {
		out[i] = *t
	}
	return out, nil
}

// EachTrail calls fn with every trail of every account, ordered by account, home region and
// name, and stops at the first error fn returns.
func (s *Service) EachTrail(fn func(Trail) error) error {
	var stop error
	err := s.store.Scan(keyPrefix, func(key string, value []byte) error {
		// cloudtrail/<acct>/trail/<region>/<name>; other kinds share the service prefix.
		parts := strings.Split(strings.TrimPrefix(key, keyPrefix), "/")
		if len(parts) != 4 || parts[1] != "trail" {
			return nil
		}
		var t Trail
		if err := json.Unmarshal(value, &t); err != nil {
			return internal("decode trail "+key, err)
		}
		if err := fn(t); err != nil {
			stop = err
			return err
		}
		return nil
	})
	if stop != nil {
		return stop
	}
	return err
}

// LoggingTrails returns every trail of every account that is logging.
func (s *Service) LoggingTrails() ([]Trail, error) {
	var out []Trail
	err := s.EachTrail(func(t Trail) error {
		if t.Status.IsLogging {
			out = append(out, t)
		}
		return nil
	})
	return out, err
}
