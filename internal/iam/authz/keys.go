package authz

import (
	"maps"
	"slices"
	"strings"
	"sync"
)

// Keys gives the condition keys services share: aws:ResourceTag/KEY from the resource's tags,
// aws:RequestTag/KEY and aws:TagKeys from the tags a request sets (or, for an untag request,
// the keys it removes), and the service's own keys.
type Keys struct {
	// ResourceTags loads the resource's tags, called at most once and only when a policy asks;
	// nil when the resource has none (or does not exist yet).
	ResourceTags func() map[string]string
	// RequestTags are the tags the request sets; TagKeys the keys it names (RequestTags' keys
	// when nil).
	RequestTags map[string]string
	TagKeys     []string
	// Service holds the service's keys by lower-case name (sqs:..., sns:Protocol).
	Service map[string][]string

	once   *sync.Once
	loaded *map[string]string
}

// WithResourceTags returns k loading resource tags with load, once.
func (k Keys) WithResourceTags(load func() map[string]string) Keys {
	k.ResourceTags, k.once, k.loaded = load, new(sync.Once), new(map[string]string)
	return k
}

// Value implements policy.Values.
func (k Keys) Value(key string) ([]string, bool) {
	lower := strings.ToLower(key)
	switch {
	case strings.HasPrefix(lower, "aws:resourcetag/"):
		tags := k.resourceTags()
		return tagValue(tags, key[len("aws:resourcetag/"):])
	case strings.HasPrefix(lower, "aws:requesttag/"):
		return tagValue(k.RequestTags, key[len("aws:requesttag/"):])
	case lower == "aws:tagkeys":
		if k.TagKeys != nil {
			return k.TagKeys, true
		}
		if k.RequestTags == nil {
			return nil, false
		}
		return slices.Sorted(maps.Keys(k.RequestTags)), true
	}
	v, ok := k.Service[lower]
	return v, ok
}

func (k Keys) resourceTags() map[string]string {
	if k.ResourceTags == nil {
		return nil
	}
	if k.once == nil {
		return k.ResourceTags()
	}
	k.once.Do(func() { *k.loaded = k.ResourceTags() })
	return *k.loaded
}

// tagValue finds a tag by key: tag keys are case-sensitive in AWS's tag condition keys.
func tagValue(tags map[string]string, key string) ([]string, bool) {
	v, ok := tags[key]
	if !ok {
		return nil, false
	}
	return []string{v}, true
}
