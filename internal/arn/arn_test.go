package arn

import "testing"

func TestPartition(t *testing.T) {
	for region, want := range map[string]string{
		"us-east-1": "aws", "eu-west-3": "aws", "cn-north-1": "aws-cn", "us-gov-west-1": "aws-us-gov", "": "aws",
	} {
		if got := Partition(region); got != want {
			t.Errorf("Partition(%q) = %q, want %q", region, got, want)
		}
	}
}

func TestIsAccount(t *testing.T) {
	for s, want := range map[string]bool{
		"000000000000": true, "123456789012": true, "12345678901": false, "1234567890123": false, "12345678901a": false, "": false,
	} {
		if got := IsAccount(s); got != want {
			t.Errorf("IsAccount(%q) = %v, want %v", s, got, want)
		}
	}
}
