package logs

import (
	"context"
	"slices"
	"strings"

	"github.com/cockroachdb/pebble/v2"

	"github.com/opentrail/opentrail/internal/server"
)

// groupRecord is a log group as stored (famGroup, JSON).
type groupRecord struct {
	Name               string            `json:"name"`
	Created            int64             `json:"created"` // epoch ms
	RetentionDays      int               `json:"retentionDays,omitempty"`
	Class              string            `json:"class,omitempty"`
	Tags               map[string]string `json:"tags,omitempty"`
	DeletionProtection bool              `json:"deletionProtection,omitempty"`
}

// Log group classes.
const (
	classStandard   = "STANDARD"
	classInfrequent = "INFREQUENT_ACCESS"
	classDelivery   = "DELIVERY"
)

// retentionDays are the values PutRetentionPolicy accepts.
var retentionDays = []int{1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653}

const retentionEnum = "[1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653]"

const dayMS = 24 * 60 * 60 * 1000

// cutoff is the oldest timestamp (epoch ms) the group keeps at nowMS, or 0 without a
// retention policy.
func (g *groupRecord) cutoff(nowMS int64) int64 {
	if g.RetentionDays <= 0 {
		return 0
	}
	return max(nowMS-int64(g.RetentionDays)*dayMS, 0)
}

func (s *Service) loadGroup(acct, region, name string) (*groupRecord, error) {
	var g groupRecord
	found, err := getJSON(s.db, groupKey(famGroup, acct, region, name), &g)
	if err != nil {
		return nil, internal("load log group", err)
	}
	if !found {
		return nil, nil
	}
	return &g, nil
}

// mustGroup loads a group or fails with ResourceNotFoundException.
func (s *Service) mustGroup(acct, region, name string) (*groupRecord, error) {
	g, err := s.loadGroup(acct, region, name)
	if err != nil {
		return nil, err
	}
	if g == nil {
		return nil, errGroupNotFound()
	}
	return g, nil
}

func (s *Service) saveGroup(acct, region string, g *groupRecord) error {
	b := s.db.NewBatch()
	defer b.Close()
	if err := setJSON(b, groupKey(famGroup, acct, region, g.Name), g); err != nil {
		return err
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return internal("save log group", err)
	}
	return nil
}

// changeGroup applies fn to a group and saves it, under the structure lock.
func (s *Service) changeGroup(c *server.Call, name string, fn func(g *groupRecord) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.mustGroup(c.Account(), c.Region, name)
	if err != nil {
		return err
	}
	if err := fn(g); err != nil {
		return err
	}
	if err := s.saveGroup(c.Account(), c.Region, g); err != nil {
		return err
	}
	c.AddResource(groupType, GroupARN(c.Region, c.Account(), name))
	return nil
}

type createLogGroupInput struct {
	LogGroupName              string            `json:"logGroupName"`
	KmsKeyID                  string            `json:"kmsKeyId,omitempty"`
	Tags                      map[string]string `json:"tags,omitempty"`
	LogGroupClass             string            `json:"logGroupClass,omitempty"`
	DeletionProtectionEnabled bool              `json:"deletionProtectionEnabled,omitempty"`
}

func checkClass(member, class string) error {
	switch class {
	case "", classStandard, classInfrequent, classDelivery:
		return nil
	}
	return errConstraint(class, member, "Member must satisfy enum value set: [STANDARD, INFREQUENT_ACCESS, DELIVERY]")
}

func (s *Service) createLogGroup(ctx context.Context, c *server.Call, in *createLogGroupInput) (*server.NoOutput, error) {
	if err := checkGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	if strings.HasPrefix(in.LogGroupName, "aws/") {
		return nil, errInvalid("Log group names can't start with aws/: that prefix is reserved for AWS services.")
	}
	if in.KmsKeyID != "" {
		return nil, errInvalid("kmsKeyId: encrypting log groups with KMS keys is not supported by this server.")
	}
	if err := checkClass("logGroupClass", in.LogGroupClass); err != nil {
		return nil, err
	}
	if in.Tags != nil {
		if err := checkTags("tags", in.Tags); err != nil {
			return nil, err
		}
	}
	g := &groupRecord{
		Name:               in.LogGroupName,
		Created:            s.clockMS(),
		Class:              in.LogGroupClass,
		Tags:               in.Tags,
		DeletionProtection: in.DeletionProtectionEnabled,
	}
	if g.Class == "" {
		g.Class = classStandard
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old, err := s.loadGroup(c.Account(), c.Region, in.LogGroupName)
	if err != nil {
		return nil, err
	}
	if old != nil {
		return nil, errorf(CodeResourceAlreadyExists, "The specified log group already exists")
	}
	if err := s.saveGroup(c.Account(), c.Region, g); err != nil {
		return nil, err
	}
	c.AddResource(groupType, GroupARN(c.Region, c.Account(), g.Name))
	return &server.NoOutput{}, nil
}

func (s *Service) deleteLogGroup(ctx context.Context, c *server.Call, in *groupNameInput) (*server.NoOutput, error) {
	if err := checkGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	acct, region, name := c.Account(), c.Region, in.LogGroupName
	s.mu.Lock()
	defer s.mu.Unlock()
	g, err := s.mustGroup(acct, region, name)
	if err != nil {
		return nil, err
	}
	if g.DeletionProtection {
		return nil, errorf(CodeValidation, "Cannot delete log group %s: deletion protection is enabled. Disable it with PutLogGroupDeletionProtection first.", name)
	}
	b := s.db.NewBatch()
	defer b.Close()
	_ = b.Delete(groupKey(famGroup, acct, region, name), nil)
	_ = b.Delete(groupKey(famGroupStat, acct, region, name), nil)
	for _, fam := range []byte{famStream, famStreamStat, famFilter, famEvent} {
		p := groupKey(fam, acct, region, name)
		_ = b.DeleteRange(p, prefixEnd(p), nil)
	}
	if err := b.Commit(pebble.Sync); err != nil {
		return nil, internal("delete log group", err)
	}
	delete(s.filters, groupID(acct, region, name))
	c.AddResource(groupType, GroupARN(region, acct, name))
	return &server.NoOutput{}, nil
}

type describeLogGroupsInput struct {
	AccountIdentifiers    []string `json:"accountIdentifiers,omitempty"`
	LogGroupNamePrefix    string   `json:"logGroupNamePrefix,omitempty"`
	LogGroupNamePattern   *string  `json:"logGroupNamePattern,omitempty"`
	NextToken             string   `json:"nextToken,omitempty"`
	Limit                 *int     `json:"limit,omitempty"`
	IncludeLinkedAccounts bool     `json:"includeLinkedAccounts,omitempty"`
	LogGroupClass         string   `json:"logGroupClass,omitempty"`
	LogGroupIdentifiers   []string `json:"logGroupIdentifiers,omitempty"`
}

// logGroupOut is the LogGroup shape.
type logGroupOut struct {
	LogGroupName              string `json:"logGroupName"`
	CreationTime              int64  `json:"creationTime"`
	RetentionInDays           *int   `json:"retentionInDays,omitempty"`
	MetricFilterCount         *int   `json:"metricFilterCount,omitempty"`
	Arn                       string `json:"arn"`
	StoredBytes               *int64 `json:"storedBytes,omitempty"`
	LogGroupClass             string `json:"logGroupClass,omitempty"`
	LogGroupArn               string `json:"logGroupArn,omitempty"`
	DeletionProtectionEnabled *bool  `json:"deletionProtectionEnabled,omitempty"`
}

type describeLogGroupsOutput struct {
	LogGroups []logGroupOut `json:"logGroups"`
	NextToken string        `json:"nextToken,omitempty"`
}

// Page sizes of the Describe operations.
const (
	defaultDescribeLimit = 50
	maxDescribeLimit     = 50
)

func describeLimit(limit *int) (int, error) {
	if limit == nil {
		return defaultDescribeLimit, nil
	}
	if *limit < 1 {
		return 0, errConstraint(*limit, "limit", "Member must have value greater than or equal to 1")
	}
	if *limit > maxDescribeLimit {
		return 0, errConstraint(*limit, "limit", "Member must have value less than or equal to 50")
	}
	return *limit, nil
}

func (s *Service) describeLogGroups(ctx context.Context, c *server.Call, in *describeLogGroupsInput) (*describeLogGroupsOutput, error) {
	limit, err := describeLimit(in.Limit)
	if err != nil {
		return nil, err
	}
	pattern := ""
	if in.LogGroupNamePattern != nil {
		pattern = *in.LogGroupNamePattern
		if in.LogGroupNamePrefix != "" {
			return nil, errInvalid("LogGroup name prefix and LogGroup name pattern are mutually exclusive parameters.")
		}
		if pattern != "" && !groupNameChars.MatchString(pattern) {
			return nil, errConstraint(pattern, "logGroupNamePattern", "Member must satisfy regular expression pattern: [\\.\\-_/#A-Za-z0-9]*")
		}
	}
	if in.LogGroupNamePrefix != "" {
		if err := checkGroupName("logGroupNamePrefix", in.LogGroupNamePrefix); err != nil {
			return nil, err
		}
	}
	if err := checkClass("logGroupClass", in.LogGroupClass); err != nil {
		return nil, err
	}
	var only map[string]bool
	if in.LogGroupIdentifiers != nil {
		if in.LogGroupNamePrefix != "" || in.LogGroupNamePattern != nil {
			return nil, errInvalid("logGroupIdentifiers cannot be combined with logGroupNamePrefix or logGroupNamePattern.")
		}
		if n := len(in.LogGroupIdentifiers); n < 1 || n > 50 {
			return nil, errConstraint(n, "logGroupIdentifiers", "Member must have length less than or equal to 50 and greater than or equal to 1")
		}
		only = map[string]bool{}
		for _, id := range in.LogGroupIdentifiers {
			name, err := groupRef(c, "", id)
			if err != nil {
				if isNotFound(err) {
					continue // another account's or region's group: not listed
				}
				return nil, err
			}
			only[name] = true
		}
	}
	acct, region := c.Account(), c.Region
	binding := tokenBinding("DescribeLogGroups", acct, region, in.LogGroupNamePrefix, pattern, in.LogGroupClass, strings.Join(sortedKeys(only), "\x00"))
	base := regionPrefix(famGroup, acct, region)
	lower := appendEscaped(slices.Clone(base), in.LogGroupNamePrefix)
	upper := prefixEnd(lower)
	if in.NextToken != "" {
		pos, err := s.parsePageToken(binding, in.NextToken)
		if err != nil {
			return nil, err
		}
		after := append(encodeName(slices.Clone(base), string(pos)), 0)
		if string(after) > string(lower) {
			lower = after
		}
	}
	it, err := s.db.NewIter(&pebble.IterOptions{LowerBound: lower, UpperBound: upper})
	if err != nil {
		return nil, internal("list log groups", err)
	}
	defer it.Close()
	out := &describeLogGroupsOutput{LogGroups: []logGroupOut{}}
	for valid := it.First(); valid; valid = it.Next() {
		var g groupRecord
		if err := jsonUnmarshal(it.Value(), &g); err != nil {
			return nil, internal("decode log group", err)
		}
		if pattern != "" && !strings.Contains(g.Name, pattern) {
			continue
		}
		if in.LogGroupClass != "" && g.classOrDefault() != in.LogGroupClass {
			continue
		}
		if only != nil && !only[g.Name] {
			continue
		}
		if len(out.LogGroups) == limit {
			out.NextToken = s.pageToken(binding, []byte(out.LogGroups[limit-1].LogGroupName))
			break
		}
		lg, err := s.groupOut(acct, region, &g, in.LogGroupNamePattern != nil)
		if err != nil {
			return nil, err
		}
		out.LogGroups = append(out.LogGroups, lg)
	}
	if err := it.Error(); err != nil {
		return nil, internal("list log groups", err)
	}
	return out, nil
}

func (g *groupRecord) classOrDefault() string {
	if g.Class == "" {
		return classStandard
	}
	return g.Class
}

// groupOut renders a group; brief is the shape DescribeLogGroups answers to a
// logGroupNamePattern: name, creation time and ARN only.
func (s *Service) groupOut(acct, region string, g *groupRecord, brief bool) (logGroupOut, error) {
	arn := GroupARN(region, acct, g.Name)
	out := logGroupOut{LogGroupName: g.Name, CreationTime: g.Created, Arn: arn + ":*"}
	if brief {
		return out, nil
	}
	st, err := getStats(s.db, groupKey(famGroupStat, acct, region, g.Name))
	if err != nil {
		return out, internal("log group statistics", err)
	}
	s.mu.RLock()
	n := len(s.filters[groupID(acct, region, g.Name)])
	s.mu.RUnlock()
	bytes := max(st.Bytes, 0)
	protected := g.DeletionProtection
	out.MetricFilterCount = &n
	out.StoredBytes = &bytes
	out.LogGroupClass = g.classOrDefault()
	out.LogGroupArn = arn
	out.DeletionProtectionEnabled = &protected
	if g.RetentionDays > 0 {
		d := g.RetentionDays
		out.RetentionInDays = &d
	}
	return out, nil
}

type putRetentionInput struct {
	LogGroupName    string `json:"logGroupName"`
	RetentionInDays *int   `json:"retentionInDays"`
}

func (s *Service) putRetentionPolicy(ctx context.Context, c *server.Call, in *putRetentionInput) (*server.NoOutput, error) {
	if err := checkGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	if in.RetentionInDays == nil {
		return nil, errInvalid("1 validation error detected: Value null at 'retentionInDays' failed to satisfy constraint: Member must not be null")
	}
	days := *in.RetentionInDays
	if !slices.Contains(retentionDays, days) {
		return nil, errConstraint(days, "retentionInDays", "Member must satisfy enum value set: "+retentionEnum)
	}
	err := s.changeGroup(c, in.LogGroupName, func(g *groupRecord) error {
		g.RetentionDays = days
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &server.NoOutput{}, nil
}

func (s *Service) deleteRetentionPolicy(ctx context.Context, c *server.Call, in *groupNameInput) (*server.NoOutput, error) {
	if err := checkGroupName("logGroupName", in.LogGroupName); err != nil {
		return nil, err
	}
	err := s.changeGroup(c, in.LogGroupName, func(g *groupRecord) error {
		g.RetentionDays = 0
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &server.NoOutput{}, nil
}

type deletionProtectionInput struct {
	LogGroupIdentifier        string `json:"logGroupIdentifier"`
	DeletionProtectionEnabled *bool  `json:"deletionProtectionEnabled"`
}

func (s *Service) putDeletionProtection(ctx context.Context, c *server.Call, in *deletionProtectionInput) (*server.NoOutput, error) {
	if in.LogGroupIdentifier == "" {
		return nil, errInvalid("1 validation error detected: Value null at 'logGroupIdentifier' failed to satisfy constraint: Member must not be null")
	}
	if in.DeletionProtectionEnabled == nil {
		return nil, errInvalid("1 validation error detected: Value null at 'deletionProtectionEnabled' failed to satisfy constraint: Member must not be null")
	}
	name, err := groupRef(c, "", in.LogGroupIdentifier)
	if err != nil {
		return nil, err
	}
	err = s.changeGroup(c, name, func(g *groupRecord) error {
		g.DeletionProtection = *in.DeletionProtectionEnabled
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &server.NoOutput{}, nil
}
