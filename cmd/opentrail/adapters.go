package main

import (
	"context"
	"errors"
	"fmt"

	"github.com/opentrail/opentrail/internal/logforward"
	"github.com/opentrail/opentrail/internal/logs"
	"github.com/opentrail/opentrail/internal/monitoring"
)

// metricSink hands the data points of CloudWatch Logs metric filters to the metrics service.
type metricSink struct{ m *monitoring.Service }

func (s metricSink) PutInternal(ctx context.Context, acct, region string, data []logs.Datum) error {
	out := make([]monitoring.Datum, len(data))
	for i, d := range data {
		dims := make([]monitoring.Dimension, len(d.Dimensions))
		for j, dim := range d.Dimensions {
			dims[j] = monitoring.Dimension{Name: dim.Name, Value: dim.Value}
		}
		out[i] = monitoring.Datum{Namespace: d.Namespace, MetricName: d.MetricName, Dimensions: dims, Value: d.Value, Unit: d.Unit, Timestamp: d.Timestamp}
	}
	return s.m.PutInternal(ctx, acct, region, out)
}

// logSink puts trails' records into their CloudWatch Logs groups.
type logSink struct{ l *logs.Service }

func (s logSink) Forward(ctx context.Context, acct, region, group, stream string, events []logforward.Event) (int, error) {
	in := make([]logs.InputEvent, len(events))
	for i, e := range events {
		in[i] = logs.InputEvent{Timestamp: e.Timestamp, Message: e.Message}
	}
	rejected, err := s.l.PutInternal(ctx, acct, region, group, stream, in)
	if errors.Is(err, logs.ErrGroupNotFound) {
		return rejected, fmt.Errorf("%w: %w", logforward.ErrNoGroup, err)
	}
	return rejected, err
}
