package events

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// targetKind classifies a target ARN: "sns", "logs", "api-destination", "event-bus" or "".
func targetKind(arn string) string {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) < 6 || parts[0] != "arn" {
		return ""
	}
	switch {
	case parts[2] == "sns":
		return "sns"
	case parts[2] == "logs" && strings.HasPrefix(parts[5], "log-group:"):
		return "logs"
	case parts[2] == "events" && strings.HasPrefix(parts[5], "api-destination/"):
		return "api-destination"
	case parts[2] == "events" && strings.HasPrefix(parts[5], "event-bus/"):
		return "event-bus"
	}
	return ""
}

// deliver makes one attempt to deliver d.
func (s *Service) deliver(ctx context.Context, d *delivery) error {
	body := d.Event
	if !d.DeadLetter {
		var err error
		if body, err = s.input(d); err != nil {
			return fmt.Errorf("%w: input: %v", errPermanent, err)
		}
	}
	arn := d.Target.Arn
	parts := strings.SplitN(arn, ":", 6)
	switch targetKind(arn) {
	case "sns":
		if s.opts.Topics == nil {
			return errors.New("no SNS service")
		}
		_, err := s.opts.Topics.PublishInternal(ctx, arn, "", body)
		return err
	case "logs":
		if s.opts.LogGroups == nil {
			return errors.New("no CloudWatch Logs service")
		}
		group := strings.TrimSuffix(strings.TrimPrefix(parts[5], "log-group:"), ":*")
		var env struct {
			ID   string `json:"id"`
			Time string `json:"time"`
		}
		_ = json.Unmarshal([]byte(d.Event), &env)
		t, err := time.Parse(time.RFC3339, env.Time)
		if err != nil {
			t = d.Created
		}
		stream := env.ID
		if stream == "" {
			stream = d.ID
		}
		return s.opts.LogGroups.PutEvent(ctx, parts[4], parts[3], group, stream, t, body)
	case "api-destination":
		return s.callAPIDestination(ctx, d, parts, body)
	case "event-bus":
		bn := strings.TrimPrefix(parts[5], "event-bus/")
		items := s.match(parts[4], parts[3], bn, d.ID, []byte(body), false)
		if len(items) == 0 {
			return nil
		}
		b := s.store.NewBatch()
		for _, it := range items {
			if err := b.Put(queueKey(it.ID), it); err != nil {
				return err
			}
		}
		if err := b.Commit(); err != nil {
			return err
		}
		s.q.add(items...)
		return nil
	}
	return fmt.Errorf("%w: unsupported target %s", errPermanent, arn)
}

func (s *Service) callAPIDestination(ctx context.Context, d *delivery, parts []string, body string) error {
	name := strings.SplitN(strings.TrimPrefix(parts[5], "api-destination/"), "/", 2)[0]
	s.mu.RLock()
	dest := s.dests[resRef{parts[4], parts[3], name}]
	var conn *connection
	if dest != nil {
		if cn := connectionName(dest.ConnectionArn); cn != "" {
			conn = s.conns[resRef{parts[4], parts[3], cn}]
		}
	}
	s.mu.RUnlock()
	if dest == nil {
		return fmt.Errorf("%w: API destination %s does not exist", errPermanent, name)
	}
	if conn == nil {
		return fmt.Errorf("%w: connection %s does not exist", errPermanent, dest.ConnectionArn)
	}
	if err := s.pace(ctx, dest); err != nil {
		return err
	}
	endpoint := dest.Endpoint
	hp := d.Target.HttpParameters
	if hp != nil {
		for _, v := range hp.PathParameterValues {
			endpoint = strings.Replace(endpoint, "*", url.PathEscape(v), 1)
		}
	}
	u, err := url.Parse(endpoint)
	if err != nil {
		return fmt.Errorf("%w: endpoint: %v", errPermanent, err)
	}
	q := u.Query()
	for k, v := range conn.Query {
		q.Set(k, v)
	}
	if hp != nil {
		for k, v := range hp.QueryStringParameters {
			q.Set(k, v)
		}
	}
	u.RawQuery = q.Encode()
	var rd io.Reader
	if dest.Method != http.MethodGet && dest.Method != http.MethodHead {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, dest.Method, u.String(), rd)
	if err != nil {
		return fmt.Errorf("%w: %v", errPermanent, err)
	}
	req.Header.Set("Content-Type", "application/json; charset=utf-8")
	req.Header.Set("User-Agent", "Amazon/EventBridge/ApiDestinations")
	for k, v := range conn.Headers {
		req.Header.Set(k, v)
	}
	if hp != nil {
		for k, v := range hp.HeaderParameters {
			req.Header.Set(k, v)
		}
	}
	switch conn.AuthorizationType {
	case "API_KEY":
		req.Header.Set(conn.APIKeyName, conn.APIKeyValue)
	case "BASIC":
		req.SetBasicAuth(conn.Username, conn.Password)
	}
	resp, err := s.http.Do(req)
	if err != nil {
		return err
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<16))
	resp.Body.Close()
	switch {
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return nil
	case resp.StatusCode == 401, resp.StatusCode == 407, resp.StatusCode == 409, resp.StatusCode == 429, resp.StatusCode >= 500:
		return fmt.Errorf("HTTP %d from %s", resp.StatusCode, u.Host)
	}
	// Other client errors are not retried, as on AWS.
	return fmt.Errorf("%w: HTTP %d from %s", errPermanent, resp.StatusCode, u.Host)
}

func connectionName(arn string) string {
	i := strings.Index(arn, ":connection/")
	if i < 0 {
		return ""
	}
	return strings.SplitN(arn[i+len(":connection/"):], "/", 2)[0]
}

// input computes what the target receives: the event, Input, InputPath or InputTransformer.
func (s *Service) input(d *delivery) (string, error) {
	t := &d.Target
	switch {
	case t.Input != "":
		return t.Input, nil
	case t.InputPath != "":
		var ev any
		if err := json.Unmarshal([]byte(d.Event), &ev); err != nil {
			return "", err
		}
		p, err := parsePath(t.InputPath)
		if err != nil {
			return "", err
		}
		v, ok := p.get(ev)
		if !ok {
			return "", nil
		}
		b, err := json.Marshal(v)
		return string(b), err
	case t.InputTransformer != nil:
		return transform(t.InputTransformer, d)
	}
	return d.Event, nil
}

// jsonPath is a simple JSONPath: $, $.a.b, $.a[0], $['a'].
type jsonPath []any // string keys and int indexes

func parsePath(p string) (jsonPath, error) {
	if !strings.HasPrefix(p, "$") {
		return nil, errors.New("a JSONPath must start with $")
	}
	var out jsonPath
	rest := p[1:]
	for rest != "" {
		switch {
		case rest[0] == '.':
			rest = rest[1:]
			i := strings.IndexAny(rest, ".[")
			if i < 0 {
				i = len(rest)
			}
			if i == 0 {
				return nil, errors.New("empty member name")
			}
			out = append(out, rest[:i])
			rest = rest[i:]
		case rest[0] == '[':
			j := strings.IndexByte(rest, ']')
			if j < 0 {
				return nil, errors.New("unclosed [")
			}
			in := rest[1:j]
			rest = rest[j+1:]
			if n, err := strconv.Atoi(in); err == nil {
				out = append(out, n)
			} else if len(in) >= 2 && (in[0] == '\'' || in[0] == '"') && in[len(in)-1] == in[0] {
				out = append(out, in[1:len(in)-1])
			} else {
				return nil, fmt.Errorf("unsupported selector [%s]", in)
			}
		default:
			return nil, fmt.Errorf("unexpected %q", rest[:1])
		}
	}
	return out, nil
}

func (p jsonPath) get(v any) (any, bool) {
	for _, step := range p {
		switch k := step.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				return nil, false
			}
			if v, ok = m[k]; !ok {
				return nil, false
			}
		case int:
			a, ok := v.([]any)
			if !ok || k < 0 || k >= len(a) {
				return nil, false
			}
			v = a[k]
		}
	}
	return v, true
}

// transform applies an input transformer. A placeholder inside a JSON string is replaced by
// the value's text (escaped); outside a string by the value's JSON; missing values become
// null outside strings and nothing inside them.
func transform(it *InputTransformer, d *delivery) (string, error) {
	var ev any
	if err := json.Unmarshal([]byte(d.Event), &ev); err != nil {
		return "", err
	}
	vals := map[string]any{}
	found := map[string]bool{}
	for k, path := range it.InputPathsMap {
		p, err := parsePath(path)
		if err != nil {
			return "", err
		}
		v, ok := p.get(ev)
		vals[k], found[k] = v, ok
	}
	vals["aws.events.rule-arn"], found["aws.events.rule-arn"] = d.RuleArn, true
	vals["aws.events.rule-name"], found["aws.events.rule-name"] = d.RuleName, true
	vals["aws.events.event.ingestion-time"], found["aws.events.event.ingestion-time"] = d.Created.Format("2006-01-02T15:04:05.000Z"), true
	vals["aws.events.event"], found["aws.events.event"] = json.RawMessage(d.Event), true
	vals["aws.events.event.json"], found["aws.events.event.json"] = json.RawMessage(d.Event), true

	tpl := it.InputTemplate
	var out strings.Builder
	inString := false
	for i := 0; i < len(tpl); {
		c := tpl[i]
		if c == '<' {
			if j := strings.IndexByte(tpl[i:], '>'); j > 0 {
				key := tpl[i+1 : i+j]
				if v, known := vals[key]; known {
					writeValue(&out, v, found[key], inString)
					i += j + 1
					continue
				}
			}
		}
		if c == '\\' && inString && i+1 < len(tpl) {
			out.WriteString(tpl[i : i+2])
			i += 2
			continue
		}
		if c == '"' {
			inString = !inString
		}
		_, n := utf8.DecodeRuneInString(tpl[i:])
		out.WriteString(tpl[i : i+n])
		i += n
	}
	return out.String(), nil
}

func writeValue(out *strings.Builder, v any, found, inString bool) {
	if !found {
		if !inString {
			out.WriteString("null")
		}
		return
	}
	var b []byte
	if raw, ok := v.(json.RawMessage); ok {
		b = raw
	} else {
		b, _ = json.Marshal(v)
	}
	if !inString {
		out.Write(b)
		return
	}
	if s, ok := v.(string); ok {
		q, _ := json.Marshal(s)
		out.Write(q[1 : len(q)-1])
		return
	}
	q, _ := json.Marshal(string(bytes.TrimSpace(b)))
	out.Write(q[1 : len(q)-1])
}

// pace spaces the calls to an API destination by its InvocationRateLimitPerSecond.
func (s *Service) pace(ctx context.Context, d *apiDestination) error {
	if d.RateLimit <= 0 {
		return nil
	}
	interval := time.Second / time.Duration(d.RateLimit)
	s.paceMu.Lock()
	now := time.Now()
	at := s.paceNext[d.arn()]
	if at.Before(now) {
		at = now
	}
	if s.paceNext == nil {
		s.paceNext = map[string]time.Time{}
	}
	s.paceNext[d.arn()] = at.Add(interval)
	s.paceMu.Unlock()
	if wait := time.Until(at); wait > 0 {
		t := time.NewTimer(wait)
		defer t.Stop()
		select {
		case <-t.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}
