package events

import (
	"encoding/json"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/opentrail/opentrail/internal/eventpattern"
)

// Store layout (JSON values):
//
//	events/<acct>/<region>/bus/<name>            a custom event bus
//	events/<acct>/<region>/rule/<bus>\x00<name>  a rule with its targets
//	events/<acct>/<region>/conn/<name>           a connection (with its credentials)
//	events/<acct>/<region>/dest/<name>           an API destination
//	events/cursor                                the journal consumer's cursor
//	events/queue/<id>                            a delivery not yet made (queue.go)
//	events/dead/<id>                             a delivery that failed for good with no dead-letter target
const storePrefix = "events/"

// Rule states.
const (
	StateEnabled    = "ENABLED"
	StateDisabled   = "DISABLED"
	StateEnabledAll = "ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS"
)

type busRef struct{ Account, Region, Name string }

type resRef struct{ Account, Region, Name string }

func busKey(r busRef) string { return storePrefix + r.Account + "/" + r.Region + "/bus/" + r.Name }

func ruleKey(r busRef, name string) string {
	return storePrefix + r.Account + "/" + r.Region + "/rule/" + r.Name + "\x00" + name
}

func connKey(r resRef) string { return storePrefix + r.Account + "/" + r.Region + "/conn/" + r.Name }
func destKey(r resRef) string { return storePrefix + r.Account + "/" + r.Region + "/dest/" + r.Name }

// bus is an event bus and its rules.
type bus struct {
	Name        string    `json:"name"`
	Description string    `json:"description,omitempty"`
	Tags        []Tag     `json:"tags,omitempty"`
	Created     time.Time `json:"created"`

	rules map[string]*rule // by name; guarded by Service.mu
	setMu sync.Mutex
	set   *eventpattern.Set[*rule] // nil when rules changed
}

func (b *bus) invalidate() {
	b.setMu.Lock()
	b.set = nil
	b.setMu.Unlock()
}

// rule is a rule as stored. Stored rules are immutable: a change stores a copy.
type rule struct {
	Account            string    `json:"account"`
	Region             string    `json:"region"`
	Bus                string    `json:"bus"`
	Name               string    `json:"name"`
	EventPattern       string    `json:"eventPattern,omitempty"`
	ScheduleExpression string    `json:"scheduleExpression,omitempty"`
	State              string    `json:"state"`
	Description        string    `json:"description,omitempty"`
	RoleArn            string    `json:"roleArn,omitempty"`
	Targets            []Target  `json:"targets,omitempty"`
	Tags               []Tag     `json:"tags,omitempty"`
	Created            time.Time `json:"created"`

	pattern *eventpattern.Pattern
}

func (r *rule) arn() string { return ruleARNOf(r.Region, r.Account, r.Bus, r.Name) }

func (r *rule) clone() *rule {
	c := *r
	c.Targets = append([]Target(nil), r.Targets...)
	c.Tags = append([]Tag(nil), r.Tags...)
	return &c
}

// Tag is a resource tag.
type Tag struct {
	Key   string `json:"Key"`
	Value string `json:"Value"`
}

// Target is a rule's target, as the API shapes it (members this server does not use are
// kept and returned as given).
type Target struct {
	Id               string            `json:"Id"`
	Arn              string            `json:"Arn"`
	RoleArn          string            `json:"RoleArn,omitempty"`
	Input            string            `json:"Input,omitempty"`
	InputPath        string            `json:"InputPath,omitempty"`
	InputTransformer *InputTransformer `json:"InputTransformer,omitempty"`
	HttpParameters   *HTTPParameters   `json:"HttpParameters,omitempty"`
	DeadLetterConfig *DeadLetterConfig `json:"DeadLetterConfig,omitempty"`
	RetryPolicy      *RetryPolicy      `json:"RetryPolicy,omitempty"`

	Other map[string]json.RawMessage `json:"-"`
}

// InputTransformer is a target's input transformer.
type InputTransformer struct {
	InputPathsMap map[string]string `json:"InputPathsMap,omitempty"`
	InputTemplate string            `json:"InputTemplate"`
}

// HTTPParameters are a target's HTTP parameters (API destinations).
type HTTPParameters struct {
	PathParameterValues   []string          `json:"PathParameterValues,omitempty"`
	HeaderParameters      map[string]string `json:"HeaderParameters,omitempty"`
	QueryStringParameters map[string]string `json:"QueryStringParameters,omitempty"`
}

// DeadLetterConfig names where failed deliveries go.
type DeadLetterConfig struct {
	Arn string `json:"Arn,omitempty"`
}

// RetryPolicy bounds a target's retries.
type RetryPolicy struct {
	MaximumRetryAttempts     *int `json:"MaximumRetryAttempts,omitempty"`
	MaximumEventAgeInSeconds *int `json:"MaximumEventAgeInSeconds,omitempty"`
}

// connection is an EventBridge connection: how API destinations authenticate.
type connection struct {
	Account           string            `json:"account"`
	Region            string            `json:"region"`
	Name              string            `json:"name"`
	UUID              string            `json:"uuid"`
	Description       string            `json:"description,omitempty"`
	AuthorizationType string            `json:"authorizationType"`
	APIKeyName        string            `json:"apiKeyName,omitempty"`
	APIKeyValue       string            `json:"apiKeyValue,omitempty"`
	Username          string            `json:"username,omitempty"`
	Password          string            `json:"password,omitempty"`
	Headers           map[string]string `json:"headers,omitempty"`
	// Sealed holds APIKeyValue or Password sealed with the server's key (Options.Box); the
	// plain fields are then empty in the store.
	Sealed  []byte            `json:"sealed,omitempty"`
	Query   map[string]string `json:"query,omitempty"`
	Created time.Time         `json:"created"`
}

func (c *connection) arn() string {
	return "arn:aws:events:" + c.Region + ":" + c.Account + ":connection/" + c.Name + "/" + c.UUID
}

// apiDestination is an HTTP endpoint that targets can name.
type apiDestination struct {
	Account       string    `json:"account"`
	Region        string    `json:"region"`
	Name          string    `json:"name"`
	UUID          string    `json:"uuid"`
	Description   string    `json:"description,omitempty"`
	ConnectionArn string    `json:"connectionArn"`
	Endpoint      string    `json:"endpoint"`
	Method        string    `json:"method"`
	RateLimit     int       `json:"rateLimit,omitempty"`
	Created       time.Time `json:"created"`
}

func (d *apiDestination) arn() string {
	return "arn:aws:events:" + d.Region + ":" + d.Account + ":api-destination/" + d.Name + "/" + d.UUID
}

// load reads every bus, rule, connection and destination into memory.
func (s *Service) load() error {
	err := s.store.Scan(storePrefix, func(key string, value []byte) error {
		rest := strings.TrimPrefix(key, storePrefix)
		parts := strings.SplitN(rest, "/", 4)
		if len(parts) < 4 {
			return nil // cursor, queue, dead
		}
		acct, region, kind, name := parts[0], parts[1], parts[2], parts[3]
		switch kind {
		case "bus":
			b := &bus{}
			if err := json.Unmarshal(value, b); err != nil {
				return internal("decode "+key, err)
			}
			ref := busRef{acct, region, name}
			if old := s.buses[ref]; old != nil {
				b.rules = old.rules
			} else {
				b.rules = map[string]*rule{}
			}
			s.buses[ref] = b
		case "rule":
			r := &rule{}
			if err := json.Unmarshal(value, r); err != nil {
				return internal("decode "+key, err)
			}
			if r.EventPattern != "" {
				p, err := eventpattern.Parse(r.EventPattern)
				if err != nil {
					s.log.Warn("stored event pattern no longer parses", "rule", r.arn(), "err", err)
				}
				r.pattern = p
			}
			ref := busRef{acct, region, r.Bus}
			b := s.buses[ref]
			if b == nil {
				b = &bus{Name: r.Bus, rules: map[string]*rule{}}
				s.buses[ref] = b
			}
			b.rules[r.Name] = r
		case "conn":
			c := &connection{}
			if err := json.Unmarshal(value, c); err != nil {
				return internal("decode "+key, err)
			}
			if len(c.Sealed) > 0 {
				if s.opts.Box == nil {
					return internal("open "+key, errors.New("connection secret is sealed but no key is configured"))
				}
				plain, err := s.opts.Box.Open(c.Sealed)
				if err != nil {
					return internal("open "+key, err)
				}
				if c.AuthorizationType == "BASIC" {
					c.Password = plain
				} else {
					c.APIKeyValue = plain
				}
				c.Sealed = nil
			}
			s.conns[resRef{acct, region, name}] = c
		case "dest":
			d := &apiDestination{}
			if err := json.Unmarshal(value, d); err != nil {
				return internal("decode "+key, err)
			}
			s.dests[resRef{acct, region, name}] = d
		}
		return nil
	})
	if err != nil {
		return internal("load", err)
	}
	return nil
}

// stored is the connection as written to the store: its secret sealed when a Box is set.
func (s *Service) stored(c *connection) *connection {
	if s.opts.Box == nil {
		return c
	}
	cp := *c
	plain := cp.APIKeyValue
	if cp.AuthorizationType == "BASIC" {
		plain = cp.Password
	}
	cp.Sealed = s.opts.Box.Seal(plain)
	cp.APIKeyValue, cp.Password = "", ""
	return &cp
}
