package awsproto

// queryErrorCodes fills in the awsQueryError codes (error.code) that some botocore models no
// longer carry but the SDKs still expect in x-amzn-query-error. Source: the Smithy model of SQS
// (aws.protocols#awsQueryError), as shipped in aws-sdk-go-v2's service/sqs schemas. Codes of
// errors the model does not define (AWS's common errors) map the same way, for the json
// protocol's x-amzn-query-error header and the query protocol's Code.
var queryErrorCodes = map[string]map[string]string{
	"sqs": {
		"AccessDeniedException":        "AccessDenied",
		"BatchEntryIdsNotDistinct":     "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
		"BatchRequestTooLong":          "AWS.SimpleQueueService.BatchRequestTooLong",
		"EmptyBatchRequest":            "AWS.SimpleQueueService.EmptyBatchRequest",
		"InvalidAddress":               "InvalidAddress",
		"InvalidBatchEntryId":          "AWS.SimpleQueueService.InvalidBatchEntryId",
		"InvalidSecurity":              "InvalidSecurity",
		"KmsAccessDenied":              "KMS.AccessDeniedException",
		"KmsDisabled":                  "KMS.DisabledException",
		"KmsInvalidKeyUsage":           "KMS.InvalidKeyUsageException",
		"KmsInvalidState":              "KMS.InvalidStateException",
		"KmsNotFound":                  "KMS.NotFoundException",
		"KmsOptInRequired":             "KMS.OptInRequired",
		"KmsThrottled":                 "KMS.ThrottlingException",
		"MessageNotInflight":           "AWS.SimpleQueueService.MessageNotInflight",
		"OverLimit":                    "OverLimit",
		"PurgeQueueInProgress":         "AWS.SimpleQueueService.PurgeQueueInProgress",
		"QueueDeletedRecently":         "AWS.SimpleQueueService.QueueDeletedRecently",
		"QueueDoesNotExist":            "AWS.SimpleQueueService.NonExistentQueue",
		"QueueNameExists":              "QueueAlreadyExists",
		"ReceiptHandleIsInvalid":       "ReceiptHandleIsInvalid",
		"RequestThrottled":             "RequestThrottled",
		"ResourceNotFoundException":    "ResourceNotFoundException",
		"TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
		"UnsupportedOperation":         "AWS.SimpleQueueService.UnsupportedOperation",
	},
}
