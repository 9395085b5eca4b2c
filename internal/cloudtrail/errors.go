package cloudtrail

import (
	"fmt"

	"github.com/opentrail/opentrail"
)

// Error codes: the __type of every error this package returns, named as the CloudTrail model
// names its error shapes. Every one is sent with HTTP 400 — the real service answers
// TrailNotFoundException with 400 although the model says 404, and SDKs dispatch on the code,
// not on the status.
const (
	CodeCloudTrailARNInvalid          = "CloudTrailARNInvalidException"
	CodeInsightNotEnabled             = "InsightNotEnabledException"
	CodeInsufficientS3BucketPolicy    = "InsufficientS3BucketPolicyException"
	CodeInsufficientSnsTopicPolicy    = "InsufficientSnsTopicPolicyException"
	CodeInvalidCloudWatchLogsGroup    = "InvalidCloudWatchLogsLogGroupArnException"
	CodeInvalidCloudWatchLogsRole     = "InvalidCloudWatchLogsRoleArnException"
	CodeInvalidEventSelectors         = "InvalidEventSelectorsException"
	CodeInvalidHomeRegion             = "InvalidHomeRegionException"
	CodeInvalidInsightSelectors       = "InvalidInsightSelectorsException"
	CodeInvalidKmsKeyID               = "InvalidKmsKeyIdException"
	CodeInvalidNextToken              = "InvalidNextTokenException"
	CodeInvalidParameter              = "InvalidParameterException"
	CodeInvalidParameterCombination   = "InvalidParameterCombinationException"
	CodeInvalidS3BucketName           = "InvalidS3BucketNameException"
	CodeInvalidS3Prefix               = "InvalidS3PrefixException"
	CodeInvalidSnsTopicName           = "InvalidSnsTopicNameException"
	CodeInvalidTagParameter           = "InvalidTagParameterException"
	CodeInvalidTrailName              = "InvalidTrailNameException"
	CodeKmsKeyNotFound                = "KmsKeyNotFoundException"
	CodeMaximumNumberOfTrailsExceeded = "MaximumNumberOfTrailsExceededException"
	CodeOrganizationsNotInUse         = "OrganizationsNotInUseException"
	CodeResourceNotFound              = "ResourceNotFoundException"
	CodeResourceTypeNotSupported      = "ResourceTypeNotSupportedException"
	CodeS3BucketDoesNotExist          = "S3BucketDoesNotExistException"
	CodeTagsLimitExceeded             = "TagsLimitExceededException"
	CodeTrailAlreadyExists            = "TrailAlreadyExistsException"
	CodeTrailNotFound                 = "TrailNotFoundException"
	CodeUnsupportedOperation          = "UnsupportedOperationException"
)

func errorf(code, format string, args ...any) *opentrail.Error {
	return opentrail.Errorf(code, format, args...)
}

// errTrailNotFound is AWS's TrailNotFoundException; the text names the trail by ARN, as the
// real service does ("Unknown trail: <arn> for the user: <account>").
func errTrailNotFound(arn, acct string) *opentrail.Error {
	return errorf(CodeTrailNotFound, "Unknown trail: %s for the user: %s", arn, acct)
}

func errHomeRegion(op, arn, home, region string) *opentrail.Error {
	return errorf(CodeInvalidHomeRegion, "%s must be called in the trail's home region: trail %s was created in %s, this request was made in %s", op, arn, home, region)
}

func errUnsupported(op string) *opentrail.Error {
	return errorf(CodeUnsupportedOperation, "%s is not supported by this server yet", op)
}

func errSelectors(format string, args ...any) *opentrail.Error {
	return errorf(CodeInvalidEventSelectors, format, args...)
}

func errInsights(format string, args ...any) *opentrail.Error {
	return errorf(CodeInvalidInsightSelectors, format, args...)
}

func errTag(format string, args ...any) *opentrail.Error {
	return errorf(CodeInvalidTagParameter, format, args...)
}

// internal wraps a storage failure; it reaches clients as InternalFailure with no detail.
func internal(what string, err error) error {
	return fmt.Errorf("cloudtrail: %s: %w", what, err)
}
