package cloudtrail

import (
	"context"
	"encoding/base64"
	"errors"
	"regexp"
	"sort"
	"strings"

	"github.com/opentrail/opentrail"
	"github.com/opentrail/opentrail/internal/blob"
	"github.com/opentrail/opentrail/internal/server"
)

// MaxTrailsPerRegion is how many trails an account may have in one region; a multi-region
// trail counts in every region.
const MaxTrailsPerRegion = 5

// trailSettings are the members CreateTrail and UpdateTrail share. Pointers tell an absent
// member (left unchanged by UpdateTrail) from an empty one (which clears the setting).
type trailSettings struct {
	Name                       string  `json:"Name"`
	S3BucketName               *string `json:"S3BucketName,omitempty"`
	S3KeyPrefix                *string `json:"S3KeyPrefix,omitempty"`
	SnsTopicName               *string `json:"SnsTopicName,omitempty"`
	IncludeGlobalServiceEvents *bool   `json:"IncludeGlobalServiceEvents,omitempty"`
	IsMultiRegionTrail         *bool   `json:"IsMultiRegionTrail,omitempty"`
	EnableLogFileValidation    *bool   `json:"EnableLogFileValidation,omitempty"`
	CloudWatchLogsLogGroupArn  *string `json:"CloudWatchLogsLogGroupArn,omitempty"`
	CloudWatchLogsRoleArn      *string `json:"CloudWatchLogsRoleArn,omitempty"`
	KmsKeyID                   *string `json:"KmsKeyId,omitempty"`
	IsOrganizationTrail        *bool   `json:"IsOrganizationTrail,omitempty"`
}

type createTrailInput struct {
	trailSettings
	TagsList []Tag `json:"TagsList,omitempty"`
}

type updateTrailInput struct {
	trailSettings
}

// trailConfigOutput is the output of CreateTrail and UpdateTrail.
type trailConfigOutput struct {
	Name                       string `json:"Name"`
	S3BucketName               string `json:"S3BucketName,omitempty"`
	S3KeyPrefix                string `json:"S3KeyPrefix,omitempty"`
	SnsTopicName               string `json:"SnsTopicName,omitempty"` // deprecated by AWS, still sent
	SnsTopicARN                string `json:"SnsTopicARN,omitempty"`
	IncludeGlobalServiceEvents bool   `json:"IncludeGlobalServiceEvents"`
	IsMultiRegionTrail         bool   `json:"IsMultiRegionTrail"`
	TrailARN                   string `json:"TrailARN"`
	LogFileValidationEnabled   bool   `json:"LogFileValidationEnabled"`
	CloudWatchLogsLogGroupArn  string `json:"CloudWatchLogsLogGroupArn,omitempty"`
	CloudWatchLogsRoleArn      string `json:"CloudWatchLogsRoleArn,omitempty"`
	KmsKeyID                   string `json:"KmsKeyId,omitempty"`
	IsOrganizationTrail        bool   `json:"IsOrganizationTrail"`
}

// trailOutput is the Trail shape of GetTrail and DescribeTrails.
type trailOutput struct {
	trailConfigOutput
	HomeRegion              string `json:"HomeRegion"`
	HasCustomEventSelectors bool   `json:"HasCustomEventSelectors"`
	HasInsightSelectors     bool   `json:"HasInsightSelectors"`
}

func configOutput(t *Trail) trailConfigOutput {
	return trailConfigOutput{
		Name:                       t.Name,
		S3BucketName:               t.S3BucketName,
		S3KeyPrefix:                t.S3KeyPrefix,
		SnsTopicName:               t.SnsTopicARN[strings.LastIndexByte(t.SnsTopicARN, ':')+1:],
		SnsTopicARN:                t.SnsTopicARN,
		IncludeGlobalServiceEvents: t.IncludeGlobalServiceEvents,
		IsMultiRegionTrail:         t.IsMultiRegionTrail,
		TrailARN:                   t.ARN(),
		LogFileValidationEnabled:   t.LogFileValidationEnabled,
		CloudWatchLogsLogGroupArn:  t.CloudWatchLogsLogGroupArn,
		CloudWatchLogsRoleArn:      t.CloudWatchLogsRoleArn,
		KmsKeyID:                   t.KmsKeyID,
		IsOrganizationTrail:        t.IsOrganizationTrail,
	}
}

func describe(t *Trail) trailOutput {
	return trailOutput{
		trailConfigOutput:       configOutput(t),
		HomeRegion:              t.HomeRegion,
		HasCustomEventSelectors: t.HasCustomEventSelectors,
		HasInsightSelectors:     len(t.InsightSelectors) > 0,
	}
}

func (s *Service) createTrail(ctx context.Context, c *server.Call, in *createTrailInput) (*trailConfigOutput, error) {
	acct := c.Account()
	if err := ValidateTrailName(in.Name); err != nil {
		return nil, err
	}
	if in.S3BucketName == nil {
		return nil, errorf(CodeInvalidS3BucketName, "S3BucketName is required.")
	}
	tags, err := mergeTags(nil, in.TagsList)
	if err != nil {
		return nil, err
	}
	now := s.clock()
	t := &Trail{
		AccountID:                  acct,
		Name:                       in.Name,
		HomeRegion:                 c.Region,
		IncludeGlobalServiceEvents: true,
		EventSelectors:             DefaultEventSelectors(),
		Tags:                       tags,
		CreatedAt:                  now,
		UpdatedAt:                  now,
	}
	if err := checkSettings(acct, t, &in.trailSettings); err != nil {
		return nil, err
	}
	if err := s.setTopic(t, in.SnsTopicName); err != nil {
		return nil, err
	}
	if err := s.setLogGroup(t, &in.trailSettings); err != nil {
		return nil, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	all, err := s.accountTrails(acct)
	if err != nil {
		return nil, err
	}
	if err := checkPlacement(acct, all, nil, t.Name, t.HomeRegion, t.IsMultiRegionTrail); err != nil {
		return nil, err
	}
	if err := s.checkBucket(ctx, t.S3BucketName); err != nil {
		return nil, err
	}
	if err := s.save(t); err != nil {
		return nil, err
	}
	s.log.Info("trail created", "trail", t.ARN(), "multi_region", t.IsMultiRegionTrail)
	c.AddResource(resourceType, t.ARN())
	out := configOutput(t)
	return &out, nil
}

func (s *Service) updateTrail(ctx context.Context, c *server.Call, in *updateTrailInput) (*trailConfigOutput, error) {
	if in.S3BucketName != nil {
		if err := checkBucketName(*in.S3BucketName); err != nil {
			return nil, err
		}
	}
	t, err := s.mutate(c, "UpdateTrail", in.Name, func(t *Trail) error {
		wasMulti := t.IsMultiRegionTrail
		if err := checkSettings(c.Account(), t, &in.trailSettings); err != nil {
			return err
		}
		if err := s.setTopic(t, in.SnsTopicName); err != nil {
			return err
		}
		if err := s.setLogGroup(t, &in.trailSettings); err != nil {
			return err
		}
		if t.IsMultiRegionTrail && !wasMulti {
			all, err := s.accountTrails(c.Account())
			if err != nil {
				return err
			}
			if err := checkPlacement(c.Account(), all, t, t.Name, t.HomeRegion, true); err != nil {
				return err
			}
		}
		if in.S3BucketName != nil {
			return s.checkBucket(ctx, t.S3BucketName)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := configOutput(t)
	return &out, nil
}

// checkSettings validates the settings of a CreateTrail or UpdateTrail request and applies
// them to t. Destinations that need services this server does not host fail here.
func checkSettings(acct string, t *Trail, in *trailSettings) error {
	if in.IsOrganizationTrail != nil && *in.IsOrganizationTrail {
		return errorf(CodeOrganizationsNotInUse, "Organization trails need AWS Organizations, which this server does not support yet: account %s is not a member of an organization.", acct)
	}
	if in.S3BucketName != nil {
		if err := checkBucketName(*in.S3BucketName); err != nil {
			return err
		}
		t.S3BucketName = *in.S3BucketName
	}
	if in.S3KeyPrefix != nil {
		if err := checkS3KeyPrefix(*in.S3KeyPrefix); err != nil {
			return err
		}
		t.S3KeyPrefix = *in.S3KeyPrefix
	}
	if in.SnsTopicName != nil && len(*in.SnsTopicName) > 256 {
		return errorf(CodeInvalidSnsTopicName, "SnsTopicName is too long: %d characters; the maximum is 256.", len(*in.SnsTopicName))
	}
	if in.KmsKeyID != nil && *in.KmsKeyID != "" {
		return errorf(CodeKmsKeyNotFound, "KMS key %s was not found: this server does not host AWS KMS yet, so log files cannot be encrypted with SSE-KMS. Remove KmsKeyId from the request.", *in.KmsKeyID)
	}
	if in.KmsKeyID != nil {
		t.KmsKeyID = ""
	}
	group, role := deref(in.CloudWatchLogsLogGroupArn), deref(in.CloudWatchLogsRoleArn)
	if (group == "") != (role == "") {
		return errorf(CodeInvalidParameterCombination, "CloudWatchLogsLogGroupArn and CloudWatchLogsRoleArn must be specified together.")
	}
	if in.IncludeGlobalServiceEvents != nil {
		t.IncludeGlobalServiceEvents = *in.IncludeGlobalServiceEvents
	}
	if in.IsMultiRegionTrail != nil {
		t.IsMultiRegionTrail = *in.IsMultiRegionTrail
	}
	if in.EnableLogFileValidation != nil {
		t.LogFileValidationEnabled = *in.EnableLogFileValidation
	}
	if t.IsMultiRegionTrail && !t.IncludeGlobalServiceEvents {
		return errorf(CodeInvalidParameterCombination, "Multi-Region trail must include global service events.")
	}
	return nil
}

// setTopic applies a SnsTopicName member (a topic name in the trail's home region, or a
// topic ARN) to t: nil leaves the topic as it is, "" removes it, and anything else must name
// an existing topic of the trail's account (InsufficientSnsTopicPolicyException, as AWS
// answers for a topic it cannot publish to).
func (s *Service) setTopic(t *Trail, name *string) error {
	switch {
	case name == nil:
		return nil
	case *name == "":
		t.SnsTopicARN = ""
		return nil
	case s.topics == nil:
		return errorf(CodeInvalidSnsTopicName, "SNS topics are not available on this server: remove SnsTopicName (%s) from the request.", *name)
	}
	arn, ok, err := s.topics.TopicARN(t.AccountID, t.HomeRegion, *name)
	if err != nil {
		return internal("look up SNS topic", err)
	}
	// Topic policies are not evaluated, so a topic of another account is refused as AWS
	// refuses one whose policy does not let CloudTrail publish (account isolation).
	if parts := strings.Split(arn, ":"); !ok || len(parts) < 6 || parts[4] != t.AccountID {
		return errorf(CodeInsufficientSnsTopicPolicy, "SNS Topic does not exist or the topic policy is incorrect: %s", *name)
	}
	t.SnsTopicARN = arn
	return nil
}

// logGroupARNRE is a CloudWatch Logs log group ARN as CloudTrail takes it, with or without the
// ":*" that the console appends: region, account, name.
var logGroupARNRE = regexp.MustCompile(`^arn:aws:logs:([a-z0-9-]+):([0-9]{12}):log-group:([\.\-_/#A-Za-z0-9]{1,512})(?::\*)?$`)

// setLogGroup applies CloudWatchLogsLogGroupArn and CloudWatchLogsRoleArn (checked together by
// checkSettings): both empty remove the destination; otherwise the log group must be one of
// the trail's account in its home region that exists, and the role must let CloudTrail
// create the trail's log streams and put events into them, as AWS checks.
func (s *Service) setLogGroup(t *Trail, in *trailSettings) error {
	if in.CloudWatchLogsLogGroupArn == nil && in.CloudWatchLogsRoleArn == nil {
		return nil
	}
	group, role := deref(in.CloudWatchLogsLogGroupArn), deref(in.CloudWatchLogsRoleArn)
	if group == "" {
		t.CloudWatchLogsLogGroupArn, t.CloudWatchLogsRoleArn = "", ""
		return nil
	}
	if s.logGroups == nil || s.roles == nil {
		return errorf(CodeInvalidCloudWatchLogsGroup, "CloudWatch Logs is not available on this server: remove CloudWatchLogsLogGroupArn (%s) and CloudWatchLogsRoleArn from the request.", group)
	}
	m := logGroupARNRE.FindStringSubmatch(group)
	if m == nil {
		return errorf(CodeInvalidCloudWatchLogsGroup, "CloudWatch Logs log group ARN is invalid: %s", group)
	}
	region, acct, name := m[1], m[2], m[3]
	if acct != t.AccountID || region != t.HomeRegion {
		return errorf(CodeInvalidCloudWatchLogsGroup, "The log group %s must belong to account %s and be in the trail's home region %s.", group, t.AccountID, t.HomeRegion)
	}
	ok, err := s.logGroups.GroupExists(acct, region, name)
	if err != nil {
		return internal("look up log group", err)
	}
	if !ok {
		return errorf(CodeInvalidCloudWatchLogsGroup, "The log group %s does not exist.", group)
	}
	stream := "arn:aws:logs:" + region + ":" + acct + ":log-group:" + name + ":log-stream:" + acct + "_CloudTrail_" + region
	if ok, reason := s.roles.ServiceRole(acct, role, EventSource, []string{"logs:CreateLogStream", "logs:PutLogEvents"}, stream); !ok {
		return errorf(CodeInvalidCloudWatchLogsRole, "Access denied. Verify in IAM that the role has adequate permissions: %s (%s).", role, reason)
	}
	t.CloudWatchLogsLogGroupArn, t.CloudWatchLogsRoleArn = group, role
	return nil
}

func deref(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

// checkPlacement checks that a trail called name, homed in home (multi-region or not), fits
// among the account's other trails: no trail visible in the same region has its name, and no
// region it shows in would hold more than MaxTrailsPerRegion trails. self, when not nil, is
// the trail being changed and does not count.
func checkPlacement(acct string, all []*Trail, self *Trail, name, home string, multi bool) error {
	others := make([]*Trail, 0, len(all))
	for _, o := range all {
		if self != nil && o.HomeRegion == self.HomeRegion && o.Name == self.Name {
			continue
		}
		others = append(others, o)
	}
	for _, o := range others {
		if o.Name == name && (o.HomeRegion == home || o.IsMultiRegionTrail || multi) {
			return errorf(CodeTrailAlreadyExists, "Trail %s already exists for customer: %s", name, acct)
		}
	}
	regions := []string{home}
	if multi {
		// A multi-region trail shows everywhere; the fullest regions are those that home
		// trails (elsewhere only the multi-region trails count).
		for _, o := range others {
			regions = append(regions, o.HomeRegion)
		}
		sort.Strings(regions)
	}
	for _, r := range regions {
		n := 0
		for _, o := range others {
			if o.Covers(r) {
				n++
			}
		}
		if n >= MaxTrailsPerRegion {
			return errorf(CodeMaximumNumberOfTrailsExceeded, "User: %s already has %d trails in %s.", acct, n, r)
		}
	}
	return nil
}

// checkBucket proves that a trail's bucket exists and accepts writes.
func (s *Service) checkBucket(ctx context.Context, bucket string) error {
	err := s.buckets.CheckWritable(ctx, bucket)
	switch {
	case err == nil:
		return nil
	case errors.Is(err, blob.ErrBucketNotFound):
		return errorf(CodeS3BucketDoesNotExist, "S3 bucket does not exist!")
	case errors.Is(err, blob.ErrAccessDenied):
		return errorf(CodeInsufficientS3BucketPolicy, "Incorrect S3 bucket policy is detected for bucket: %s", bucket)
	case errors.Is(err, blob.ErrInvalidBucketName):
		return errorf(CodeInvalidS3BucketName, "Invalid bucket name: %s", bucket)
	default:
		return internal("check bucket "+bucket, err)
	}
}

func (s *Service) deleteTrail(ctx context.Context, c *server.Call, in *nameInput) (*server.NoOutput, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, err := s.lookup(c, in.Name)
	if err != nil {
		return nil, err
	}
	if t.HomeRegion != c.Region {
		return nil, errHomeRegion("DeleteTrail", t.ARN(), t.HomeRegion, c.Region)
	}
	if err := s.remove(t); err != nil {
		return nil, err
	}
	s.log.Info("trail deleted", "trail", t.ARN())
	c.AddResource(resourceType, t.ARN())
	return &server.NoOutput{}, nil
}

type getTrailOutput struct {
	Trail trailOutput `json:"Trail"`
}

func (s *Service) getTrail(ctx context.Context, c *server.Call, in *nameInput) (*getTrailOutput, error) {
	t, err := s.lookup(c, in.Name)
	if err != nil {
		return nil, err
	}
	c.AddResource(resourceType, t.ARN())
	return &getTrailOutput{Trail: describe(t)}, nil
}

// describeTrailsInput has the only lowerCamel member names of the API.
type describeTrailsInput struct {
	TrailNameList       []string `json:"trailNameList,omitempty"`
	IncludeShadowTrails *bool    `json:"includeShadowTrails,omitempty"`
}

type describeTrailsOutput struct {
	TrailList []trailOutput `json:"trailList"`
}

// describeTrails lists the trails of the request region — and, unless includeShadowTrails is
// false, the shadow trails of multi-region trails homed elsewhere. With trailNameList, names
// select trails homed in the request region and ARNs select trails of any region; unknown
// trails are left out, not errors.
func (s *Service) describeTrails(ctx context.Context, c *server.Call, in *describeTrailsInput) (*describeTrailsOutput, error) {
	shadows := in.IncludeShadowTrails == nil || *in.IncludeShadowTrails
	out := &describeTrailsOutput{TrailList: []trailOutput{}}
	if len(in.TrailNameList) == 0 {
		all, err := s.accountTrails(c.Account())
		if err != nil {
			return nil, err
		}
		for _, t := range all {
			if t.HomeRegion == c.Region || (shadows && t.visibleIn(c.Region)) {
				out.TrailList = append(out.TrailList, describe(t))
			}
		}
		return out, nil
	}
	seen := map[string]bool{}
	for _, n := range in.TrailNameList {
		t, err := s.lookup(c, n)
		if e := opentrail.ErrorOf(err); e != nil && e.Code == CodeTrailNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		if seen[t.ARN()] || (!shadows && t.HomeRegion != c.Region) {
			continue
		}
		seen[t.ARN()] = true
		out.TrailList = append(out.TrailList, describe(t))
	}
	return out, nil
}

type listTrailsInput struct {
	NextToken string `json:"NextToken,omitempty"`
}

// TrailInfo is a ListTrails entry.
type trailInfo struct {
	TrailARN   string `json:"TrailARN"`
	Name       string `json:"Name"`
	HomeRegion string `json:"HomeRegion"`
}

type listTrailsOutput struct {
	Trails    []trailInfo `json:"Trails"`
	NextToken string      `json:"NextToken,omitempty"`
}

// listTrails lists every trail of the account, whatever its home region, a page at a time.
// The token is the position (home region and name) after which the next page starts.
func (s *Service) listTrails(ctx context.Context, c *server.Call, in *listTrailsInput) (*listTrailsOutput, error) {
	after := ""
	if in.NextToken != "" {
		b, err := base64.RawURLEncoding.DecodeString(in.NextToken)
		region, name, ok := strings.Cut(string(b), "/")
		if err != nil || !ok || !validRegionName(region) || ValidateTrailName(name) != nil {
			// Only positions this operation issued are accepted: anything else would silently
			// list the wrong page.
			return nil, errorf(CodeInvalidNextToken, "Invalid NextToken: %s", in.NextToken)
		}
		after = string(b)
	}
	all, err := s.accountTrails(c.Account())
	if err != nil {
		return nil, err
	}
	out := &listTrailsOutput{Trails: []trailInfo{}}
	for _, t := range all {
		pos := t.HomeRegion + "/" + t.Name
		if after != "" && pos <= after {
			continue
		}
		if len(out.Trails) == s.pageSize {
			last := out.Trails[len(out.Trails)-1]
			out.NextToken = base64.RawURLEncoding.EncodeToString([]byte(last.HomeRegion + "/" + last.Name))
			break
		}
		out.Trails = append(out.Trails, trailInfo{TrailARN: t.ARN(), Name: t.Name, HomeRegion: t.HomeRegion})
	}
	return out, nil
}
