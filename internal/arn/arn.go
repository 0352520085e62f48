// Package arn holds what every service needs to build and read Amazon Resource Names: the
// partition of a region and the shape of an account id.
package arn

import "strings"

// Partition is the ARN partition of a region: aws-cn for China, aws-us-gov for GovCloud,
// aws for the rest.
func Partition(region string) string {
	switch {
	case strings.HasPrefix(region, "cn-"):
		return "aws-cn"
	case strings.HasPrefix(region, "us-gov-"):
		return "aws-us-gov"
	}
	return "aws"
}

// IsAccount reports whether s is an account id: twelve digits.
func IsAccount(s string) bool {
	if len(s) != 12 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
