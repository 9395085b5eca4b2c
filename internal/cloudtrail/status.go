package cloudtrail

import (
	"context"
	"strconv"
	"time"

	"github.com/opentrail/opentrail/internal/server"
)

// Status is a trail's logging state. A new trail is not logging until StartLogging.
type Status struct {
	IsLogging        bool      `json:"IsLogging"`
	StartLoggingTime time.Time `json:"StartLoggingTime,omitzero"` // last StartLogging
	StopLoggingTime  time.Time `json:"StopLoggingTime,omitzero"`  // last StopLogging
	// The journal position at the last StartLogging and StopLogging (the sequence number of
	// the last record then), and the request ID of that StopLogging call: delivery uses them
	// to give the trail exactly the records of its logging period, which event times (whole
	// seconds) cannot tell apart. Zero when the service has no JournalPosition.
	StartLoggingSeq      uint64         `json:"StartLoggingSeq,omitempty"`
	StopLoggingSeq       uint64         `json:"StopLoggingSeq,omitempty"`
	StopLoggingRequestID string         `json:"StopLoggingRequestId,omitempty"`
	Delivery             DeliveryStatus `json:"Delivery"`
}

// DeliveryStatus is what the delivery pipeline reports about a trail's outputs; GetTrailStatus
// shows it. Zero times and empty errors mean "never" and are left out of the response.
type DeliveryStatus struct {
	LatestDeliveryTime                 time.Time `json:"LatestDeliveryTime,omitzero"` // last log file delivered to S3
	LatestDeliveryError                string    `json:"LatestDeliveryError,omitempty"`
	LatestDeliveryAttemptTime          time.Time `json:"LatestDeliveryAttemptTime,omitzero"`
	LatestDeliveryAttemptSucceeded     time.Time `json:"LatestDeliveryAttemptSucceeded,omitzero"`
	LatestDigestDeliveryTime           time.Time `json:"LatestDigestDeliveryTime,omitzero"`
	LatestDigestDeliveryError          string    `json:"LatestDigestDeliveryError,omitempty"`
	LatestNotificationTime             time.Time `json:"LatestNotificationTime,omitzero"` // SNS
	LatestNotificationError            string    `json:"LatestNotificationError,omitempty"`
	LatestNotificationAttemptTime      time.Time `json:"LatestNotificationAttemptTime,omitzero"`
	LatestNotificationAttemptSucceeded time.Time `json:"LatestNotificationAttemptSucceeded,omitzero"`
	LatestCloudWatchLogsDeliveryTime   time.Time `json:"LatestCloudWatchLogsDeliveryTime,omitzero"`
	LatestCloudWatchLogsDeliveryError  string    `json:"LatestCloudWatchLogsDeliveryError,omitempty"`
}

// UpdateDeliveryStatus changes the delivery status of the trail of account acct homed in
// region with the given name: fn edits it in place, and the result is saved durably. Delivery
// workers of different outputs (log files, digests, notifications) each change only their own
// members, so they do not overwrite one another. It returns a TrailNotFoundException
// (*opentrail.Error) when the trail no longer exists.
func (s *Service) UpdateDeliveryStatus(acct, region, name string, fn func(*DeliveryStatus)) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok, err := s.load(acct, region, name)
	if err != nil {
		return err
	}
	if !ok {
		return errTrailNotFound(TrailARN(region, acct, name), acct)
	}
	fn(&t.Status.Delivery)
	return s.save(t)
}

// SetDeliveryStatus replaces the delivery status of a trail (see UpdateDeliveryStatus).
func (s *Service) SetDeliveryStatus(acct, region, name string, st DeliveryStatus) error {
	return s.UpdateDeliveryStatus(acct, region, name, func(d *DeliveryStatus) { *d = st })
}

// epochSeconds is a timestamp on the wire: a JSON number of seconds since the epoch with
// millisecond precision, as AWS writes timestamps in JSON protocols (1454022144.869).
type epochSeconds time.Time

func (e epochSeconds) MarshalJSON() ([]byte, error) {
	ms := time.Time(e).UnixMilli()
	return []byte(strconv.FormatFloat(float64(ms)/1000, 'f', -1, 64)), nil
}

func epoch(t time.Time) *epochSeconds {
	if t.IsZero() {
		return nil
	}
	e := epochSeconds(t)
	return &e
}

// isoSeconds renders the legacy string members of GetTrailStatus: "2015-09-01T20:35:57Z", or
// "" for never.
func isoSeconds(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02T15:04:05Z")
}

// trailStatusOutput is GetTrailStatus's output. Timestamps are absent until the event they
// stamp has happened; the six legacy string members are always present, "" for never, as the
// real service sends them.
type trailStatusOutput struct {
	IsLogging                          bool          `json:"IsLogging"`
	LatestDeliveryError                string        `json:"LatestDeliveryError,omitempty"`
	LatestNotificationError            string        `json:"LatestNotificationError,omitempty"`
	LatestDeliveryTime                 *epochSeconds `json:"LatestDeliveryTime,omitempty"`
	LatestNotificationTime             *epochSeconds `json:"LatestNotificationTime,omitempty"`
	StartLoggingTime                   *epochSeconds `json:"StartLoggingTime,omitempty"`
	StopLoggingTime                    *epochSeconds `json:"StopLoggingTime,omitempty"`
	LatestCloudWatchLogsDeliveryError  string        `json:"LatestCloudWatchLogsDeliveryError,omitempty"`
	LatestCloudWatchLogsDeliveryTime   *epochSeconds `json:"LatestCloudWatchLogsDeliveryTime,omitempty"`
	LatestDigestDeliveryTime           *epochSeconds `json:"LatestDigestDeliveryTime,omitempty"`
	LatestDigestDeliveryError          string        `json:"LatestDigestDeliveryError,omitempty"`
	LatestDeliveryAttemptTime          string        `json:"LatestDeliveryAttemptTime"`
	LatestNotificationAttemptTime      string        `json:"LatestNotificationAttemptTime"`
	LatestNotificationAttemptSucceeded string        `json:"LatestNotificationAttemptSucceeded"`
	LatestDeliveryAttemptSucceeded     string        `json:"LatestDeliveryAttemptSucceeded"`
	TimeLoggingStarted                 string        `json:"TimeLoggingStarted"`
	TimeLoggingStopped                 string        `json:"TimeLoggingStopped"`
}

func statusOutput(st *Status) *trailStatusOutput {
	d := &st.Delivery
	return &trailStatusOutput{
		IsLogging:                          st.IsLogging,
		LatestDeliveryError:                d.LatestDeliveryError,
		LatestNotificationError:            d.LatestNotificationError,
		LatestDeliveryTime:                 epoch(d.LatestDeliveryTime),
		LatestNotificationTime:             epoch(d.LatestNotificationTime),
		StartLoggingTime:                   epoch(st.StartLoggingTime),
		StopLoggingTime:                    epoch(st.StopLoggingTime),
		LatestCloudWatchLogsDeliveryError:  d.LatestCloudWatchLogsDeliveryError,
		LatestCloudWatchLogsDeliveryTime:   epoch(d.LatestCloudWatchLogsDeliveryTime),
		LatestDigestDeliveryTime:           epoch(d.LatestDigestDeliveryTime),
		LatestDigestDeliveryError:          d.LatestDigestDeliveryError,
		LatestDeliveryAttemptTime:          isoSeconds(d.LatestDeliveryAttemptTime),
		LatestNotificationAttemptTime:      isoSeconds(d.LatestNotificationAttemptTime),
		LatestNotificationAttemptSucceeded: isoSeconds(d.LatestNotificationAttemptSucceeded),
		LatestDeliveryAttemptSucceeded:     isoSeconds(d.LatestDeliveryAttemptSucceeded),
		TimeLoggingStarted:                 isoSeconds(st.StartLoggingTime),
		TimeLoggingStopped:                 isoSeconds(st.StopLoggingTime),
	}
}

func (s *Service) getTrailStatus(ctx context.Context, c *server.Call, in *nameInput) (*trailStatusOutput, error) {
	t, err := s.lookup(c, in.Name)
	if err != nil {
		return nil, err
	}
	c.AddResource(resourceType, t.ARN())
	return statusOutput(&t.Status), nil
}

// startLogging starts recording. Starting a trail that is logging changes nothing.
func (s *Service) startLogging(ctx context.Context, c *server.Call, in *nameInput) (*server.NoOutput, error) {
	_, err := s.mutate(c, "StartLogging", in.Name, func(t *Trail) error {
		if !t.Status.IsLogging {
			t.Status.IsLogging = true
			t.Status.StartLoggingTime = s.clock()
			t.Status.StartLoggingSeq = s.position()
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &server.NoOutput{}, nil
}

// stopLogging stops recording. Stopping a trail that is not logging changes nothing.
func (s *Service) stopLogging(ctx context.Context, c *server.Call, in *nameInput) (*server.NoOutput, error) {
	_, err := s.mutate(c, "StopLogging", in.Name, func(t *Trail) error {
		if t.Status.IsLogging {
			t.Status.IsLogging = false
			t.Status.StopLoggingTime = s.clock()
			t.Status.StopLoggingSeq = s.position()
			t.Status.StopLoggingRequestID = c.RequestID
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &server.NoOutput{}, nil
}

// position is the journal's last sequence number, or 0 without a JournalPosition.
func (s *Service) position() uint64 {
	if s.journalPos == nil {
		return 0
	}
	return s.journalPos()
}

// clock is the time of a state change: the service clock, which tests control, truncated to
// milliseconds as the wire carries it.
func (s *Service) clock() time.Time {
	return s.now().UTC().Truncate(time.Millisecond)
}
