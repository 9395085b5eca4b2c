package history

import (
	"context"
	"math"
	"time"

	"github.com/opentrail/opentrail/internal/server"
)

// LookupAttributeInput is one member of LookupEventsInput.LookupAttributes.
type LookupAttributeInput struct {
	AttributeKey   *string `json:"AttributeKey,omitempty"`
	AttributeValue *string `json:"AttributeValue,omitempty"`
}

// LookupEventsInput is the LookupEvents request, member names as in the model. Timestamps
// are epoch seconds (JSON numbers, integral or fractional), as JSON 1.1 sends them.
type LookupEventsInput struct {
	LookupAttributes []LookupAttributeInput `json:"LookupAttributes,omitempty"`
	StartTime        *float64               `json:"StartTime,omitempty"`
	EndTime          *float64               `json:"EndTime,omitempty"`
	EventCategory    *string                `json:"EventCategory,omitempty"`
	MaxResults       *int64                 `json:"MaxResults,omitempty"`
	NextToken        *string                `json:"NextToken,omitempty"`
}

// LookupEventsOutput is the LookupEvents response.
type LookupEventsOutput struct {
	Events    []Event `json:"Events"`
	NextToken string  `json:"NextToken,omitempty"`
}

// Operations returns the operations History serves for the cloudtrail service:
// LookupEvents, read-only, authorized as cloudtrail:LookupEvents on "*".
func (h *History) Operations() []*server.Operation {
	return []*server.Operation{
		server.Op("LookupEvents", server.OpOptions[LookupEventsInput]{ReadOnly: true}, h.lookupEvents),
	}
}

// Timestamps accepted on input: from the epoch to the end of year 9999.
const maxEpochInput = 253402300799

func (h *History) lookupEvents(ctx context.Context, c *server.Call, in *LookupEventsInput) (*LookupEventsOutput, error) {
	q := Query{Region: c.Region}
	for _, a := range in.LookupAttributes {
		if a.AttributeKey == nil || a.AttributeValue == nil {
			return nil, lookupErr(CodeInvalidLookupAttributes, "Each lookup attribute needs an AttributeKey and an AttributeValue.")
		}
		q.Attributes = append(q.Attributes, Attribute{Key: *a.AttributeKey, Value: *a.AttributeValue})
	}
	var err error
	if q.StartTime, err = inputTime(in.StartTime); err != nil {
		return nil, err
	}
	if q.EndTime, err = inputTime(in.EndTime); err != nil {
		return nil, err
	}
	if in.EventCategory != nil {
		q.EventCategory = *in.EventCategory
		if q.EventCategory == "" {
			return nil, lookupErr(CodeInvalidEventCategory, "EventCategory \"\" is not valid. The only valid value is insight.")
		}
	}
	if in.MaxResults != nil {
		if *in.MaxResults < 1 || *in.MaxResults > MaxMaxResults {
			return nil, lookupErr(CodeInvalidMaxResults, "MaxResults must be between 1 and %d.", MaxMaxResults)
		}
		q.MaxResults = int(*in.MaxResults)
	}
	if in.NextToken != nil {
		if *in.NextToken == "" {
			return nil, errInvalidToken
		}
		q.NextToken = *in.NextToken
	}
	page, err := h.Lookup(ctx, c.Account(), q)
	if err != nil {
		return nil, err
	}
	return &LookupEventsOutput{Events: page.Events, NextToken: page.NextToken}, nil
}

// inputTime converts an epoch-seconds input member; nil gives the zero time (unset).
func inputTime(v *float64) (time.Time, error) {
	if v == nil {
		return time.Time{}, nil
	}
	f := *v
	if math.IsNaN(f) || f < 0 || f > maxEpochInput {
		return time.Time{}, lookupErr(CodeInvalidTimeRange, "The time %v is outside the range of possible values.", f)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC(), nil
}
