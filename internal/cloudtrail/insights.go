package cloudtrail

import (
	"context"
	"slices"

	"github.com/opentrail/opentrail/internal/server"
)

// InsightSelector turns on one kind of Insights analysis for a trail. Insights selectors are
// stored and reported; detection itself is the Insights package's business.
type InsightSelector struct {
	InsightType string `json:"InsightType,omitempty"` // ApiCallRateInsight or ApiErrorRateInsight
	// EventCategories are Management and/or Data; absent means Management.
	EventCategories []string `json:"EventCategories,omitempty"`
}

// Insights types.
const (
	InsightAPICallRate  = "ApiCallRateInsight"
	InsightAPIErrorRate = "ApiErrorRateInsight"
)

// categories returns the event categories the selector analyses.
func (i InsightSelector) categories() []string {
	if len(i.EventCategories) == 0 {
		return []string{CategoryManagement}
	}
	return i.EventCategories
}

// ValidateInsightSelectors checks the InsightSelectors of a PutInsightSelectors request: each
// names ApiCallRateInsight or ApiErrorRateInsight once, with event categories Management and
// Data only. An empty list is valid and turns Insights off. Failures are
// InvalidInsightSelectorsException. It returns a normalized copy (duplicate categories removed).
func ValidateInsightSelectors(sels []InsightSelector) ([]InsightSelector, error) {
	out := make([]InsightSelector, 0, len(sels))
	seen := map[string]bool{}
	for _, sel := range sels {
		switch sel.InsightType {
		case InsightAPICallRate, InsightAPIErrorRate:
		case "":
			return nil, errInsights("Each insight selector must have an InsightType: ApiCallRateInsight or ApiErrorRateInsight.")
		default:
			return nil, errInsights("Value %s for InsightType is invalid. Valid values are ApiCallRateInsight and ApiErrorRateInsight.", sel.InsightType)
		}
		if seen[sel.InsightType] {
			return nil, errInsights("InsightType %s is specified more than once.", sel.InsightType)
		}
		seen[sel.InsightType] = true
		n := InsightSelector{InsightType: sel.InsightType}
		for _, c := range sel.EventCategories {
			if c != CategoryManagement && c != CategoryData {
				return nil, errInsights("Value %s for EventCategories is invalid. Valid values are Management and Data.", c)
			}
			if !slices.Contains(n.EventCategories, c) {
				n.EventCategories = append(n.EventCategories, c)
			}
		}
		out = append(out, n)
	}
	return out, nil
}

// insightPrerequisites explains, in a sentence, which events the Insights selectors need that
// the event selectors do not log, or returns "". ApiCallRateInsight on management events needs
// write management events; ApiErrorRateInsight on management events needs read or write
// management events; Insights on data events need data events.
func insightPrerequisites(insights []InsightSelector, basic []EventSelector, advanced []AdvancedEventSelector) string {
	for _, in := range insights {
		for _, cat := range in.categories() {
			switch {
			case cat == CategoryData && !logsData(basic, advanced):
				return in.InsightType + " on data events needs a trail that logs data events."
			case cat == CategoryManagement && in.InsightType == InsightAPICallRate && !logsManagement(basic, advanced, true):
				return "ApiCallRateInsight needs a trail that logs write management events."
			case cat == CategoryManagement && in.InsightType == InsightAPIErrorRate && !logsManagement(basic, advanced, false):
				return "ApiErrorRateInsight needs a trail that logs management events."
			}
		}
	}
	return ""
}

// logsManagement reports whether the selectors log management events — write events, when
// write is set.
func logsManagement(basic []EventSelector, advanced []AdvancedEventSelector, write bool) bool {
	for _, s := range basic {
		if s.ManagementEvents() && (!write || s.ReadWriteType != ReadWriteReadOnly) {
			return true
		}
	}
	for _, s := range advanced {
		if selectorCategory(s) != CategoryManagement {
			continue
		}
		if !write {
			return true
		}
		readOnlyTrue := false
		for _, f := range s.FieldSelectors {
			if f.Field == "readOnly" && slices.Equal(f.Equals, []string{"true"}) {
				readOnlyTrue = true
			}
		}
		if !readOnlyTrue {
			return true
		}
	}
	return false
}

func logsData(basic []EventSelector, advanced []AdvancedEventSelector) bool {
	for _, s := range basic {
		if len(s.DataResources) > 0 {
			return true
		}
	}
	for _, s := range advanced {
		if selectorCategory(s) == CategoryData {
			return true
		}
	}
	return false
}

// selectorCategory is the eventCategory an advanced selector selects.
func selectorCategory(s AdvancedEventSelector) string {
	for _, f := range s.FieldSelectors {
		if f.Field == "eventCategory" && len(f.Equals) == 1 {
			return f.Equals[0]
		}
	}
	return ""
}

type putInsightSelectorsInput struct {
	TrailName           string            `json:"TrailName,omitempty"`
	InsightSelectors    []InsightSelector `json:"InsightSelectors"`
	EventDataStore      string            `json:"EventDataStore,omitempty"`
	InsightsDestination string            `json:"InsightsDestination,omitempty"`
}

type insightSelectorsOutput struct {
	TrailARN         string            `json:"TrailARN,omitempty"`
	InsightSelectors []InsightSelector `json:"InsightSelectors"`
}

// insightResource is the resource Insights operations are authorized against.
func insightResource(c *server.Call, trailName string) string {
	if trailName == "" {
		return "*"
	}
	return resourceARN(c.Region, c.Account(), trailName)
}

// checkInsightTarget checks that a request names a trail, and not an event data store.
func checkInsightTarget(op, trailName, eds, dest string) error {
	switch {
	case trailName != "" && (eds != "" || dest != ""):
		return errorf(CodeInvalidParameterCombination, "TrailName cannot be combined with EventDataStore or InsightsDestination.")
	case eds != "" || dest != "":
		return errorf(CodeUnsupportedOperation, "%s for event data stores is not supported by this server yet; event data stores (CloudTrail Lake) are not available.", op)
	case trailName == "":
		return errorf(CodeInvalidParameterCombination, "You must specify TrailName (or EventDataStore, which this server does not support yet).")
	}
	return nil
}

func (s *Service) putInsightSelectors(ctx context.Context, c *server.Call, in *putInsightSelectorsInput) (*insightSelectorsOutput, error) {
	if err := checkInsightTarget("PutInsightSelectors", in.TrailName, in.EventDataStore, in.InsightsDestination); err != nil {
		return nil, err
	}
	if in.InsightSelectors == nil {
		return nil, errInsights("InsightSelectors is required; send an empty list to turn Insights off.")
	}
	sels, err := ValidateInsightSelectors(in.InsightSelectors)
	if err != nil {
		return nil, err
	}
	t, err := s.mutate(c, "PutInsightSelectors", in.TrailName, func(t *Trail) error {
		if why := insightPrerequisites(sels, t.EventSelectors, t.AdvancedEventSelectors); why != "" {
			return errInsights("%s Change the trail's event selectors first.", why)
		}
		t.InsightSelectors = sels
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &insightSelectorsOutput{TrailARN: t.ARN(), InsightSelectors: nonNil(t.InsightSelectors)}, nil
}

type getInsightSelectorsInput struct {
	TrailName      string `json:"TrailName,omitempty"`
	EventDataStore string `json:"EventDataStore,omitempty"`
}

func (s *Service) getInsightSelectors(ctx context.Context, c *server.Call, in *getInsightSelectorsInput) (*insightSelectorsOutput, error) {
	if err := checkInsightTarget("GetInsightSelectors", in.TrailName, in.EventDataStore, ""); err != nil {
		return nil, err
	}
	t, err := s.lookup(c, in.TrailName)
	if err != nil {
		return nil, err
	}
	c.AddResource(resourceType, t.ARN())
	if len(t.InsightSelectors) == 0 {
		return nil, errorf(CodeInsightNotEnabled, "Trail %s does not have Insights enabled.", t.ARN())
	}
	return &insightSelectorsOutput{TrailARN: t.ARN(), InsightSelectors: t.InsightSelectors}, nil
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}
