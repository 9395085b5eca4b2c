package server

import (
	"context"
	"net/url"

	"github.com/opentrail/opentrail/internal/awsproto"
)

// Service is one hosted AWS service: its protocol, routing keys and operations.
type Service struct {
	Name         string // SigV4 signing name and IAM action prefix: "iam", "sts", "cloudtrail"
	EventSource  string // eventSource of its records, e.g. "iam.amazonaws.com"
	APIVersion   string // Query "Version"
	TargetPrefix string // JSON: the X-Amz-Target prefix, e.g. "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"
	// RPCv2Name, for rpc-v2-cbor services, is the <name> of POST /service/<name>/operation/<Op>.
	RPCv2Name string
	// RecordRegion, when set, is the awsRegion of every record (global services such as IAM).
	RecordRegion string
	Wire         awsproto.Wire
	Operations   map[string]*Operation
}

// Add registers operations.
func (s *Service) Add(ops ...*Operation) {
	if s.Operations == nil {
		s.Operations = make(map[string]*Operation)
	}
	for _, op := range ops {
		s.Operations[op.Name] = op
	}
}

// Operation is one API operation of a service.
type Operation struct {
	Name     string
	ReadOnly bool
	// Action overrides the IAM action authorized before the handler runs ("<service>:<Name>").
	Action string
	// NoAuthorize skips the automatic authorization (the handler authorizes itself).
	NoAuthorize bool
	// run decodes the input, authorizes, and calls the handler.
	run func(ctx context.Context, c *Call, in decoder) (input, output any, err error)
}

// decoder decodes operation input in the request's protocol.
type decoder func(v any) error

// NoOutput is the output of operations that answer with no result members.
type NoOutput struct{}

// OpOptions tunes an operation.
type OpOptions[In any] struct {
	ReadOnly bool
	// Resource names the ARN the operation's IAM action is authorized against; nil means "*".
	Resource func(c *Call, in *In) string
	// Action overrides the IAM action name.
	Action string
	// NoAuthorize makes the handler responsible for every authorization.
	NoAuthorize bool
}

// Op builds an operation from a typed handler.
func Op[In, Out any](name string, opts OpOptions[In], h func(ctx context.Context, c *Call, in *In) (*Out, error)) *Operation {
	op := &Operation{Name: name, ReadOnly: opts.ReadOnly, Action: opts.Action, NoAuthorize: opts.NoAuthorize}
	op.run = func(ctx context.Context, c *Call, dec decoder) (any, any, error) {
		in := new(In)
		if err := dec(in); err != nil {
			return nil, nil, err
		}
		if !opts.NoAuthorize {
			resource := "*"
			if opts.Resource != nil {
				resource = opts.Resource(c, in)
			}
			if err := c.Authorize(c.action(), resource); err != nil {
				return in, nil, err
			}
		}
		if c.refuse != nil {
			return in, nil, c.refuse
		}
		out, err := h(ctx, c, in)
		if err != nil {
			return in, nil, err
		}
		if out == nil {
			return in, nil, nil
		}
		return in, out, nil
	}
	return op
}

func jsonDecoder(body []byte) decoder {
	return func(v any) error { return awsproto.DecodeJSON(body, v) }
}

func queryDecoder(vals url.Values) decoder {
	return func(v any) error { return awsproto.DecodeQuery(vals, v) }
}
