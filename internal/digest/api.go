package digest

import (
	"context"
	"math"
	"strconv"
	"time"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/server"
)

// Error codes of ListPublicKeys, as the CloudTrail model names them.
const (
	CodeInvalidTimeRange = "InvalidTimeRangeException"
	CodeInvalidToken     = "InvalidTokenException"
)

// ListPublicKeysInput is the ListPublicKeys request. Timestamps are epoch seconds, JSON
// numbers integral (the AWS CLI) or fractional (the SDKs), as JSON 1.1 sends them.
type ListPublicKeysInput struct {
	StartTime *float64 `json:"StartTime,omitempty"`
	EndTime   *float64 `json:"EndTime,omitempty"`
	NextToken *string  `json:"NextToken,omitempty"`
}

// ListPublicKeysOutput is the ListPublicKeys response. Every key comes in one page (the AWS
// CLI does not paginate), so there is never a NextToken.
type ListPublicKeysOutput struct {
	PublicKeyList []WirePublicKey `json:"PublicKeyList"`
}

// WirePublicKey is a PublicKey on the wire: Value as base64 (the JSON blob encoding), times
// as epoch seconds.
type WirePublicKey struct {
	Value             []byte       `json:"Value"`
	ValidityStartTime epochSeconds `json:"ValidityStartTime"`
	ValidityEndTime   epochSeconds `json:"ValidityEndTime"`
	Fingerprint       string       `json:"Fingerprint"`
}

// epochSeconds is a timestamp on the wire: a JSON number of seconds since the epoch, with a
// fraction only when there is one.
type epochSeconds time.Time

func (e epochSeconds) MarshalJSON() ([]byte, error) {
	ms := time.Time(e).UnixMilli()
	if ms%1000 == 0 {
		return []byte(strconv.FormatInt(ms/1000, 10)), nil
	}
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

// Operations returns the operations the key ring serves for the cloudtrail service:
// ListPublicKeys, read-only, authorized as cloudtrail:ListPublicKeys on "*", answering with
// the keys of the request's region.
func (k *KeyRing) Operations() []*server.Operation {
	return []*server.Operation{
		server.Op("ListPublicKeys", server.OpOptions[ListPublicKeysInput]{ReadOnly: true}, k.listPublicKeys),
	}
}

// maxEpochInput bounds timestamps accepted on input: the end of year 9999.
const maxEpochInput = 253402300799

func (k *KeyRing) listPublicKeys(ctx context.Context, c *server.Call, in *ListPublicKeysInput) (*ListPublicKeysOutput, error) {
	if in.NextToken != nil {
		return nil, opentrail.Errorf(CodeInvalidToken, "Reserved for future use.")
	}
	now := k.now().UTC()
	start, err := inputTime(in.StartTime, now)
	if err != nil {
		return nil, err
	}
	end, err := inputTime(in.EndTime, now)
	if err != nil {
		return nil, err
	}
	if start.After(end) {
		return nil, opentrail.Errorf(CodeInvalidTimeRange, "Start time must occur before end time.")
	}
	keys, err := k.PublicKeys(c.Region, start, end)
	if err != nil {
		return nil, err
	}
	out := &ListPublicKeysOutput{PublicKeyList: make([]WirePublicKey, 0, len(keys))}
	for _, p := range keys {
		out.PublicKeyList = append(out.PublicKeyList, WirePublicKey{
			Value: p.Value, Fingerprint: p.Fingerprint,
			ValidityStartTime: epochSeconds(p.ValidityStart), ValidityEndTime: epochSeconds(p.ValidityEnd),
		})
	}
	return out, nil
}

// inputTime converts an epoch-seconds input member; nil gives def.
func inputTime(v *float64, def time.Time) (time.Time, error) {
	if v == nil {
		return def, nil
	}
	f := *v
	if math.IsNaN(f) || f < 0 || f > maxEpochInput {
		return time.Time{}, opentrail.Errorf(CodeInvalidTimeRange, "The time %v is outside the range of possible values.", f)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(math.Round(frac*1e6))*1e3).UTC(), nil
}
