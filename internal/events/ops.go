package events

import (
	"context"
	"encoding/json"
	"errors"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/opentrail/opentrail/internal/eventpattern"
	"github.com/opentrail/opentrail/internal/server"
)

// epochSeconds is a timestamp as AWS JSON services send it.
type epochSeconds time.Time

func (e epochSeconds) MarshalJSON() ([]byte, error) {
	t := time.Time(e)
	return []byte(strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64)), nil
}

type nameInput struct {
	Name string `json:"Name"`
}

type listInput struct {
	NamePrefix string `json:"NamePrefix"`
	NextToken  string `json:"NextToken"`
	Limit      int    `json:"Limit"`
}

// page applies NextToken (an index) and Limit to n sorted items.
func page(n int, token string, limit int) (from, to int, next string, err error) {
	if limit < 0 || limit > 100 {
		return 0, 0, "", errConstraint(limit, "limit", "Member must have value less than or equal to 100")
	}
	if token != "" {
		from, err = strconv.Atoi(token)
		if err != nil || from < 0 || from > n {
			return 0, 0, "", errorf(CodeValidation, "The NextToken provided is invalid.")
		}
	}
	if limit == 0 {
		limit = 100
	}
	to = min(n, from+limit)
	if to < n {
		next = strconv.Itoa(to)
	}
	return from, to, next, nil
}

// ---- event buses ----

type createEventBusInput struct {
	Name            string `json:"Name"`
	EventSourceName string `json:"EventSourceName"`
	Description     string `json:"Description"`
	Tags            []Tag  `json:"Tags"`
}

type createEventBusOutput struct {
	EventBusArn string `json:"EventBusArn"`
	Description string `json:"Description,omitempty"`
}

func (s *Service) createEventBus(ctx context.Context, c *server.Call, in *createEventBusInput) (*createEventBusOutput, error) {
	if err := checkName("name", in.Name, 256, reBusName); err != nil {
		return nil, err
	}
	if in.EventSourceName != "" {
		return nil, errorf(CodeResourceNotFound, "Event source %s does not exist.", in.EventSourceName)
	}
	if in.Name == DefaultBus || strings.HasPrefix(in.Name, "aws.") {
		return nil, errorf(CodeValidation, "Event bus name must not be %s.", in.Name)
	}
	if len(in.Description) > 512 {
		return nil, errConstraint(in.Description, "description", "Member must have length less than or equal to 512")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ref := busRef{c.Account(), c.Region, in.Name}
	if s.buses[ref] != nil {
		return nil, errorf(CodeResourceAlreadyExists, "Event bus %s already exists.", in.Name)
	}
	n := 0
	for r := range s.buses {
		if r.Account == ref.Account && r.Region == ref.Region && r.Name != DefaultBus {
			n++
		}
	}
	if n >= maxBuses {
		return nil, errorf(CodeLimitExceeded, "The requested resource exceeds the maximum number allowed.")
	}
	tags, err := mergeTags(nil, in.Tags)
	if err != nil {
		return nil, err
	}
	b := &bus{Name: in.Name, Description: in.Description, Tags: tags, Created: s.now().UTC(), rules: map[string]*rule{}}
	if err := s.store.Put(busKey(ref), b); err != nil {
		return nil, internal("put bus", err)
	}
	s.buses[ref] = b
	arn := busARN(c.Region, c.Account(), in.Name)
	c.AddResource("AWS::Events::EventBus", arn)
	return &createEventBusOutput{EventBusArn: arn, Description: in.Description}, nil
}

func (s *Service) deleteEventBus(ctx context.Context, c *server.Call, in *nameInput) (*server.NoOutput, error) {
	if err := checkName("name", in.Name, 256, reBusName); err != nil {
		return nil, err
	}
	if in.Name == DefaultBus {
		return nil, errorf(CodeValidation, "Cannot delete event bus default.")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ref := busRef{c.Account(), c.Region, in.Name}
	b := s.buses[ref]
	if b == nil {
		return nil, nil // AWS: deleting a missing bus succeeds
	}
	batch := s.store.NewBatch()
	batch.Delete(busKey(ref))
	for name := range b.rules {
		batch.Delete(ruleKey(ref, name))
	}
	if err := batch.Commit(); err != nil {
		return nil, internal("delete bus", err)
	}
	delete(s.buses, ref)
	return nil, nil
}

type busOutput struct {
	Name             string       `json:"Name"`
	Arn              string       `json:"Arn"`
	Description      string       `json:"Description,omitempty"`
	CreationTime     epochSeconds `json:"CreationTime"`
	LastModifiedTime epochSeconds `json:"LastModifiedTime"`
}

func (s *Service) busOut(c *server.Call, b *bus) busOutput {
	return busOutput{Name: b.Name, Arn: busARN(c.Region, c.Account(), b.Name), Description: b.Description,
		CreationTime: epochSeconds(b.Created), LastModifiedTime: epochSeconds(b.Created)}
}

func (s *Service) describeEventBus(ctx context.Context, c *server.Call, in *nameInput) (*busOutput, error) {
	if err := checkBusNameOrARN("name", in.Name); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	name := busName(in.Name)
	b := s.getBusLocked(c.Account(), c.Region, name)
	if b == nil {
		return nil, errBusNotFound(name)
	}
	out := s.busOut(c, b)
	return &out, nil
}

type listEventBusesOutput struct {
	EventBuses []busOutput `json:"EventBuses"`
	NextToken  string      `json:"NextToken,omitempty"`
}

func (s *Service) listEventBuses(ctx context.Context, c *server.Call, in *listInput) (*listEventBusesOutput, error) {
	s.mu.Lock()
	s.getBusLocked(c.Account(), c.Region, DefaultBus)
	var all []*bus
	for r, b := range s.buses {
		if r.Account == c.Account() && r.Region == c.Region && strings.HasPrefix(r.Name, in.NamePrefix) {
			all = append(all, b)
		}
	}
	s.mu.Unlock()
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	from, to, next, err := page(len(all), in.NextToken, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &listEventBusesOutput{EventBuses: []busOutput{}, NextToken: next}
	for _, b := range all[from:to] {
		out.EventBuses = append(out.EventBuses, s.busOut(c, b))
	}
	return out, nil
}

// ---- rules ----

type putRuleInput struct {
	Name               string `json:"Name"`
	ScheduleExpression string `json:"ScheduleExpression"`
	EventPattern       string `json:"EventPattern"`
	State              string `json:"State"`
	Description        string `json:"Description"`
	RoleArn            string `json:"RoleArn"`
	EventBusName       string `json:"EventBusName"`
	Tags               []Tag  `json:"Tags"`
}

type putRuleOutput struct {
	RuleArn string `json:"RuleArn"`
}

func (s *Service) putRule(ctx context.Context, c *server.Call, in *putRuleInput) (*putRuleOutput, error) {
	if err := checkName("name", in.Name, 64, reRuleName); err != nil {
		return nil, err
	}
	if err := checkBusNameOrARN("eventBusName", in.EventBusName); err != nil {
		return nil, err
	}
	switch in.State {
	case "":
		in.State = StateEnabled
	case StateEnabled, StateDisabled, StateEnabledAll:
	default:
		return nil, errConstraint(in.State, "state", "Member must satisfy enum value set: [ENABLED, DISABLED, ENABLED_WITH_ALL_CLOUDTRAIL_MANAGEMENT_EVENTS]")
	}
	if len(in.Description) > 512 {
		return nil, errConstraint(in.Description, "description", "Member must have length less than or equal to 512")
	}
	if len(in.EventPattern) > eventpattern.MaxPatternLength {
		return nil, errConstraint(in.EventPattern, "eventPattern", "Member must have length less than or equal to 4096")
	}
	if in.EventPattern == "" && in.ScheduleExpression == "" {
		return nil, errorf(CodeValidation, "Parameter(s) EventPattern or ScheduleExpression must be specified.")
	}
	name := busName(in.EventBusName)
	if in.ScheduleExpression != "" {
		if name != DefaultBus {
			return nil, errorf(CodeValidation, "ScheduleExpression is supported only on the default event bus.")
		}
		if in.EventPattern == "" {
			return nil, errorf(CodeValidation, "ScheduleExpression is not supported by this server yet; rules need an EventPattern.")
		}
	}
	var p *eventpattern.Pattern
	if in.EventPattern != "" {
		var err error
		if p, err = eventpattern.Parse(in.EventPattern); err != nil {
			return nil, patternError(err)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b := s.getBusLocked(c.Account(), c.Region, name)
	if b == nil {
		return nil, errBusNotFound(name)
	}
	old := b.rules[in.Name]
	r := &rule{Account: c.Account(), Region: c.Region, Bus: name, Name: in.Name, Created: s.now().UTC()}
	if old != nil {
		r = old.clone()
	} else if len(b.rules) >= maxRulesPerBus {
		return nil, errorf(CodeLimitExceeded, "The requested resource exceeds the maximum number allowed.")
	}
	if len(in.Tags) > 0 {
		tags, err := mergeTags(r.Tags, in.Tags)
		if err != nil {
			return nil, err
		}
		r.Tags = tags
	}
	// Omitted members are reset on update, as AWS does (tags are kept).
	r.EventPattern, r.ScheduleExpression, r.State = in.EventPattern, in.ScheduleExpression, in.State
	r.Description, r.RoleArn, r.pattern = in.Description, in.RoleArn, p
	if err := s.store.Put(ruleKey(busRef{c.Account(), c.Region, name}, r.Name), r); err != nil {
		return nil, internal("put rule", err)
	}
	b.rules[r.Name] = r
	b.invalidate()
	c.AddResource("AWS::Events::Rule", r.arn())
	return &putRuleOutput{RuleArn: r.arn()}, nil
}

func patternError(err error) error {
	var pe *eventpattern.Error
	if errors.As(err, &pe) {
		return errorf(CodeInvalidEventPattern, "%s", pe.Error())
	}
	return errorf(CodeInvalidEventPattern, "Event pattern is not valid.")
}

type ruleInput struct {
	Name         string `json:"Name"`
	EventBusName string `json:"EventBusName"`
	Force        bool   `json:"Force"`
}

// findRule returns a rule of the caller's; s.mu must be held.
func (s *Service) findRuleLocked(c *server.Call, busArg, name string) (*bus, *rule, error) {
	if err := checkName("name", name, 64, reRuleName); err != nil {
		return nil, nil, err
	}
	if err := checkBusNameOrARN("eventBusName", busArg); err != nil {
		return nil, nil, err
	}
	bn := busName(busArg)
	b := s.getBusLocked(c.Account(), c.Region, bn)
	if b == nil {
		return nil, nil, errBusNotFound(bn)
	}
	r := b.rules[name]
	if r == nil {
		return nil, nil, errRuleNotFound(name, bn)
	}
	return b, r, nil
}

type describeRuleOutput struct {
	Name               string `json:"Name"`
	Arn                string `json:"Arn"`
	EventPattern       string `json:"EventPattern,omitempty"`
	ScheduleExpression string `json:"ScheduleExpression,omitempty"`
	State              string `json:"State"`
	Description        string `json:"Description,omitempty"`
	RoleArn            string `json:"RoleArn,omitempty"`
	EventBusName       string `json:"EventBusName"`
	CreatedBy          string `json:"CreatedBy,omitempty"`
}

func ruleOut(r *rule) describeRuleOutput {
	return describeRuleOutput{Name: r.Name, Arn: r.arn(), EventPattern: r.EventPattern, ScheduleExpression: r.ScheduleExpression,
		State: r.State, Description: r.Description, RoleArn: r.RoleArn, EventBusName: r.Bus, CreatedBy: r.Account}
}

func (s *Service) describeRule(ctx context.Context, c *server.Call, in *ruleInput) (*describeRuleOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	_, r, err := s.findRuleLocked(c, in.EventBusName, in.Name)
	if err != nil {
		return nil, err
	}
	out := ruleOut(r)
	return &out, nil
}

func (s *Service) deleteRule(ctx context.Context, c *server.Call, in *ruleInput) (*server.NoOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, r, err := s.findRuleLocked(c, in.EventBusName, in.Name)
	if err != nil {
		if isNotFound(err) {
			return nil, nil // AWS: deleting a missing rule succeeds
		}
		return nil, err
	}
	if len(r.Targets) > 0 {
		return nil, errorf(CodeValidation, "Rule can't be deleted since it has targets.")
	}
	if err := s.store.Delete(ruleKey(busRef{c.Account(), c.Region, b.Name}, r.Name)); err != nil {
		return nil, internal("delete rule", err)
	}
	delete(b.rules, r.Name)
	b.invalidate()
	return nil, nil
}

func isNotFound(err error) bool {
	return err != nil && strings.Contains(err.Error(), "does not exist")
}

func (s *Service) setState(c *server.Call, in *ruleInput, state string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	b, r, err := s.findRuleLocked(c, in.EventBusName, in.Name)
	if err != nil {
		return err
	}
	if r.State == state || (state == StateEnabled && r.State == StateEnabledAll) {
		return nil
	}
	r = r.clone()
	r.State = state
	if err := s.store.Put(ruleKey(busRef{c.Account(), c.Region, b.Name}, r.Name), r); err != nil {
		return internal("put rule", err)
	}
	b.rules[r.Name] = r
	b.invalidate()
	return nil
}

func (s *Service) enableRule(ctx context.Context, c *server.Call, in *ruleInput) (*server.NoOutput, error) {
	return nil, s.setState(c, in, StateEnabled)
}

func (s *Service) disableRule(ctx context.Context, c *server.Call, in *ruleInput) (*server.NoOutput, error) {
	return nil, s.setState(c, in, StateDisabled)
}

type listRulesInput struct {
	NamePrefix   string `json:"NamePrefix"`
	EventBusName string `json:"EventBusName"`
	NextToken    string `json:"NextToken"`
	Limit        int    `json:"Limit"`
}

type listRulesOutput struct {
	Rules     []describeRuleOutput `json:"Rules"`
	NextToken string               `json:"NextToken,omitempty"`
}

func (s *Service) listRules(ctx context.Context, c *server.Call, in *listRulesInput) (*listRulesOutput, error) {
	if err := checkBusNameOrARN("eventBusName", in.EventBusName); err != nil {
		return nil, err
	}
	bn := busName(in.EventBusName)
	s.mu.Lock()
	b := s.getBusLocked(c.Account(), c.Region, bn)
	var all []*rule
	if b != nil {
		for _, r := range b.rules {
			if strings.HasPrefix(r.Name, in.NamePrefix) {
				all = append(all, r)
			}
		}
	}
	s.mu.Unlock()
	if b == nil {
		return nil, errBusNotFound(bn)
	}
	sort.Slice(all, func(i, j int) bool { return all[i].Name < all[j].Name })
	from, to, next, err := page(len(all), in.NextToken, in.Limit)
	if err != nil {
		return nil, err
	}
	out := &listRulesOutput{Rules: []describeRuleOutput{}, NextToken: next}
	for _, r := range all[from:to] {
		o := ruleOut(r)
		o.CreatedBy = ""
		out.Rules = append(out.Rules, o)
	}
	return out, nil
}

// ---- targets ----

type putTargetsInput struct {
	Rule         string            `json:"Rule"`
	EventBusName string            `json:"EventBusName"`
	Targets      []json.RawMessage `json:"Targets"`
}

type failedEntry struct {
	TargetId     string `json:"TargetId"`
	ErrorCode    string `json:"ErrorCode"`
	ErrorMessage string `json:"ErrorMessage"`
}

type putTargetsOutput struct {
	FailedEntryCount int           `json:"FailedEntryCount"`
	FailedEntries    []failedEntry `json:"FailedEntries"`
}

func (s *Service) putTargets(ctx context.Context, c *server.Call, in *putTargetsInput) (*putTargetsOutput, error) {
	if len(in.Targets) < 1 || len(in.Targets) > maxTargetsPerCall {
		return nil, errConstraint(len(in.Targets), "targets", "Member must have length less than or equal to 10")
	}
	var targets []Target
	for i, raw := range in.Targets {
		var t Target
		if err := json.Unmarshal(raw, &t); err != nil {
			return nil, errorf("SerializationException", "Unexpected value in targets.%d", i+1)
		}
		if err := checkName("targets."+strconv.Itoa(i+1)+".member.id", t.Id, 64, reRuleName); err != nil {
			return nil, err
		}
		if t.Arn == "" || len(t.Arn) > 1600 {
			return nil, errConstraint(t.Arn, "targets."+strconv.Itoa(i+1)+".member.arn", "Member must have length greater than or equal to 1")
		}
		n := 0
		for _, set := range []bool{t.Input != "", t.InputPath != "", t.InputTransformer != nil} {
			if set {
				n++
			}
		}
		if n > 1 {
			return nil, errorf(CodeValidation, "Only one of Input, InputPath, or InputTransformer must be provided.")
		}
		targets = append(targets, t)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, r, err := s.findRuleLocked(c, in.EventBusName, in.Rule)
	if err != nil {
		return nil, err
	}
	out := &putTargetsOutput{FailedEntries: []failedEntry{}}
	nr := r.clone()
	for _, t := range targets {
		if msg := s.checkTargetLocked(c, b.Name, &t); msg != "" {
			out.FailedEntries = append(out.FailedEntries, failedEntry{TargetId: t.Id, ErrorCode: CodeValidation, ErrorMessage: msg})
			continue
		}
		replaced := false
		for i := range nr.Targets {
			if nr.Targets[i].Id == t.Id {
				nr.Targets[i], replaced = t, true
			}
		}
		if !replaced {
			if len(nr.Targets) >= maxTargetsPerRule {
				return nil, errorf(CodeLimitExceeded, "The requested resource exceeds the maximum number allowed.")
			}
			nr.Targets = append(nr.Targets, t)
		}
	}
	out.FailedEntryCount = len(out.FailedEntries)
	if err := s.store.Put(ruleKey(busRef{c.Account(), c.Region, b.Name}, nr.Name), nr); err != nil {
		return nil, internal("put rule", err)
	}
	b.rules[nr.Name] = nr
	b.invalidate()
	return out, nil
}

// checkTargetLocked says why a target cannot be delivered to, or "".
func (s *Service) checkTargetLocked(c *server.Call, bus string, t *Target) string {
	if t.InputTransformer != nil {
		if t.InputTransformer.InputTemplate == "" {
			return "InputTemplate is required in InputTransformer."
		}
		for k, p := range t.InputTransformer.InputPathsMap {
			if _, err := parsePath(p); err != nil {
				return "Invalid InputPathsMap value for key " + k + ": " + err.Error()
			}
		}
	}
	if t.InputPath != "" {
		if _, err := parsePath(t.InputPath); err != nil {
			return "Invalid InputPath: " + err.Error()
		}
	}
	for _, arn := range []string{t.Arn, dlqArn(t)} {
		if arn == "" {
			continue
		}
		kind := targetKind(arn)
		if kind == "" {
			return "Target " + arn + " is not supported by this server: targets are SNS topics, CloudWatch Logs log groups, API destinations and event buses."
		}
		// Deliveries are made by the server itself, with no resource policy to consult, so a
		// rule may only target its own account's resources.
		if parts := strings.SplitN(arn, ":", 6); parts[4] != c.Account() {
			return "Target " + arn + " is in another account; this server delivers only to resources of the rule's account."
		}
		if kind == "event-bus" && arn == busARN(c.Region, c.Account(), bus) {
			return "A rule cannot target the event bus it is on."
		}
	}
	return ""
}

func dlqArn(t *Target) string {
	if t.DeadLetterConfig == nil {
		return ""
	}
	return t.DeadLetterConfig.Arn
}

type removeTargetsInput struct {
	Rule         string   `json:"Rule"`
	EventBusName string   `json:"EventBusName"`
	Ids          []string `json:"Ids"`
	Force        bool     `json:"Force"`
}

func (s *Service) removeTargets(ctx context.Context, c *server.Call, in *removeTargetsInput) (*putTargetsOutput, error) {
	if len(in.Ids) < 1 || len(in.Ids) > 100 {
		return nil, errConstraint(len(in.Ids), "ids", "Member must have length less than or equal to 100")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	b, r, err := s.findRuleLocked(c, in.EventBusName, in.Rule)
	if err != nil {
		return nil, err
	}
	nr := r.clone()
	out := &putTargetsOutput{FailedEntries: []failedEntry{}}
	for _, id := range in.Ids {
		found := false
		for i := range nr.Targets {
			if nr.Targets[i].Id == id {
				nr.Targets = append(nr.Targets[:i], nr.Targets[i+1:]...)
				found = true
				break
			}
		}
		if !found {
			out.FailedEntries = append(out.FailedEntries, failedEntry{TargetId: id, ErrorCode: CodeResourceNotFound, ErrorMessage: "Target " + id + " does not exist."})
		}
	}
	out.FailedEntryCount = len(out.FailedEntries)
	if err := s.store.Put(ruleKey(busRef{c.Account(), c.Region, b.Name}, nr.Name), nr); err != nil {
		return nil, internal("put rule", err)
	}
	b.rules[nr.Name] = nr
	b.invalidate()
	return out, nil
}

type listTargetsInput struct {
	Rule         string `json:"Rule"`
	EventBusName string `json:"EventBusName"`
	NextToken    string `json:"NextToken"`
	Limit        int    `json:"Limit"`
}

type listTargetsOutput struct {
	Targets   []Target `json:"Targets"`
	NextToken string   `json:"NextToken,omitempty"`
}

func (s *Service) listTargetsByRule(ctx context.Context, c *server.Call, in *listTargetsInput) (*listTargetsOutput, error) {
	s.mu.Lock()
	_, r, err := s.findRuleLocked(c, in.EventBusName, in.Rule)
	s.mu.Unlock()
	if err != nil {
		return nil, err
	}
	from, to, next, err := page(len(r.Targets), in.NextToken, in.Limit)
	if err != nil {
		return nil, err
	}
	return &listTargetsOutput{Targets: append([]Target{}, r.Targets[from:to]...), NextToken: next}, nil
}

type listRuleNamesByTargetInput struct {
	TargetArn    string `json:"TargetArn"`
	EventBusName string `json:"EventBusName"`
	NextToken    string `json:"NextToken"`
	Limit        int    `json:"Limit"`
}

type listRuleNamesByTargetOutput struct {
	RuleNames []string `json:"RuleNames"`
	NextToken string   `json:"NextToken,omitempty"`
}

func (s *Service) listRuleNamesByTarget(ctx context.Context, c *server.Call, in *listRuleNamesByTargetInput) (*listRuleNamesByTargetOutput, error) {
	if in.TargetArn == "" {
		return nil, errConstraint(in.TargetArn, "targetArn", "Member must have length greater than or equal to 1")
	}
	bn := busName(in.EventBusName)
	s.mu.Lock()
	b := s.getBusLocked(c.Account(), c.Region, bn)
	var names []string
	if b != nil {
		for _, r := range b.rules {
			for _, t := range r.Targets {
				if t.Arn == in.TargetArn {
					names = append(names, r.Name)
					break
				}
			}
		}
	}
	s.mu.Unlock()
	if b == nil {
		return nil, errBusNotFound(bn)
	}
	sort.Strings(names)
	from, to, next, err := page(len(names), in.NextToken, in.Limit)
	if err != nil {
		return nil, err
	}
	return &listRuleNamesByTargetOutput{RuleNames: append([]string{}, names[from:to]...), NextToken: next}, nil
}

// ---- TestEventPattern ----

type testEventPatternInput struct {
	EventPattern string `json:"EventPattern"`
	Event        string `json:"Event"`
}

type testEventPatternOutput struct {
	Result bool `json:"Result"`
}

func (s *Service) testEventPattern(ctx context.Context, c *server.Call, in *testEventPatternInput) (*testEventPatternOutput, error) {
	p, err := eventpattern.Parse(in.EventPattern)
	if err != nil {
		return nil, patternError(err)
	}
	var env map[string]json.RawMessage
	if err := json.Unmarshal([]byte(in.Event), &env); err != nil {
		return nil, errorf(CodeValidation, "Parameter Event is not valid.")
	}
	for _, f := range []string{"id", "account", "source", "time", "region", "resources", "detail-type"} {
		if _, ok := env[f]; !ok {
			return nil, errorf(CodeValidation, "Parameter Event is not valid. Reason: Provided Event is missing required field %s.", f)
		}
	}
	ev, err := eventpattern.ParseEvent([]byte(in.Event))
	if err != nil {
		return nil, errorf(CodeValidation, "Parameter Event is not valid.")
	}
	return &testEventPatternOutput{Result: p.Match(ev)}, nil
}
