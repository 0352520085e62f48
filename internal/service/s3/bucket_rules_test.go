package s3

import (
	"errors"
	"testing"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
)

func bucketErrCode(err error) string {
	var ae *awsproto.Error
	if errors.As(err, &ae) {
		return ae.Code
	}
	if err != nil {
		return err.Error()
	}
	return ""
}

func TestValidBucketName(t *testing.T) {
	for name, want := range map[string]bool{
		"my-bucket": true, "a.b.c": true, "abc": true, "0bucket9": true,
		"ab": false, "UPPER": false, "under_score": false, "-start": false, "end-": false, "a..b": false,
		"a.-b": false, "10.0.0.1": false, "xn--abc": false, "sthree-x": false, "x-s3alias": false, "x--ol-s3": false,
		"abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij-abcdefghij": false,
	} {
		if got := validBucketName(name); got != want {
			t.Errorf("validBucketName(%q) = %v, want %v", name, got, want)
		}
	}
}

func TestBucketRegion(t *testing.T) {
	for _, tc := range []struct {
		name, requestRegion, constraint, want, code string
	}{
		{"us-east-1 without constraint", "us-east-1", "", "us-east-1", ""},
		{"us-east-1 takes another region's constraint", "us-east-1", "ap-south-1", "ap-south-1", ""},
		{"EU is an alias of eu-west-1", "eu-west-1", "EU", "eu-west-1", ""},
		{"explicit us-east-1 is refused", "us-east-1", "us-east-1", "", "InvalidLocationConstraint"},
		{"regional endpoint needs a constraint", "eu-central-1", "", "", "IllegalLocationConstraintException"},
		{"regional endpoint wants its own region", "eu-central-1", "us-west-2", "", "IllegalLocationConstraintException"},
		{"regional endpoint with its own region", "eu-central-1", "eu-central-1", "eu-central-1", ""},
		{"garbage constraint", "us-east-1", "Mars", "", "InvalidLocationConstraint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var cfg *CreateBucketConfiguration
			if tc.constraint != "" {
				cfg = &CreateBucketConfiguration{LocationConstraint: &tc.constraint}
			}
			got, err := bucketRegion(tc.requestRegion, cfg)
			if got != tc.want || bucketErrCode(err) != tc.code {
				t.Fatalf("bucketRegion = %q, %v; want %q, %q", got, err, tc.want, tc.code)
			}
		})
	}
}

func TestWildcardAndCORSMatch(t *testing.T) {
	rules := []CORSRule{
		{AllowedOrigins: []string{"https://*.example.com"}, AllowedMethods: []string{"PUT"}, AllowedHeaders: []string{"x-amz-*"}},
		{AllowedOrigins: []string{"*"}, AllowedMethods: []string{"GET"}},
	}
	for _, tc := range []struct {
		name, origin, method string
		headers              []string
		rule                 int // -1: no match
	}{
		{"subdomain origin with allowed header", "https://a.example.com", "PUT", []string{"x-amz-date"}, 0},
		{"wildcard does not match the bare domain", "https://example.com", "PUT", nil, -1},
		{"header outside the allowed patterns", "https://a.example.com", "PUT", []string{"authorization"}, -1},
		{"any origin may GET", "http://x", "GET", nil, 1},
		{"method allowed by no rule", "http://x", "DELETE", nil, -1},
		{"requested headers need a rule that allows them", "http://x", "GET", []string{"x-amz-date"}, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m, ok := matchCORS(rules, tc.origin, tc.method, tc.headers)
			switch {
			case tc.rule < 0 && ok:
				t.Fatalf("matched rule %+v, want none", m.rule)
			case tc.rule >= 0 && (!ok || m.rule != &rules[tc.rule]):
				t.Fatalf("match = %v %+v, want rule %d", ok, m.rule, tc.rule)
			}
		})
	}
}

func TestParseGrantHeader(t *testing.T) {
	id := canonicalID("123456789012")
	grants, err := parseGrantHeader(`id="`+id+`", uri="`+groupAllUsers+`"`, "READ")
	if err != nil || len(grants) != 2 || grants[0].ID != id || grants[1].URI != groupAllUsers || grants[1].Permission != "READ" {
		t.Fatalf("grants = %+v, %v", grants, err)
	}
	for list, code := range map[string]string{
		`id="short"`:                   "InvalidArgument",
		`uri="http://example.com/g"`:   "InvalidArgument",
		`emailAddress="a@example.com"`: "UnresolvableGrantByEmailAddress",
		`nonsense`:                     "InvalidArgument",
	} {
		if _, err := parseGrantHeader(list, "READ"); bucketErrCode(err) != code {
			t.Errorf("%s: %v, want %s", list, err, code)
		}
	}
}

func TestDecideLifecycle(t *testing.T) {
	clock := lifecycleClock{interval: time.Second, day: time.Hour}
	t0 := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	rule := func(r LifecycleRule) activeRule {
		f, _ := filterOf(&r)
		return activeRule{&r, f}
	}
	days := func(n int32) *int32 { return &n }
	obj := func(id string, at time.Duration, marker bool, tags ...tag) object {
		return object{Key: "logs/a", VersionID: id, LastModified: t0.Add(at), DeleteMarker: marker, Size: 10, Tags: tags}
	}
	expire1 := rule(LifecycleRule{Filter: &LifecycleRuleFilter{Prefix: awsproto.Ptr("logs/")}, Expiration: &LifecycleExpiration{Days: days(1)}})
	for _, tc := range []struct {
		name  string
		vs    []object
		rules []activeRule
		now   time.Duration
		want  lifecycleActions
	}{
		{"young object stays", []object{obj("v1", 0, false)}, []activeRule{expire1}, 59 * time.Minute, lifecycleActions{}},
		{"object a day old expires", []object{obj("v1", 0, false)}, []activeRule{expire1}, time.Hour, lifecycleActions{expireCurrent: true}},
		{"prefix outside the filter stays", []object{{Key: "other", VersionID: "v1", LastModified: t0}}, []activeRule{expire1}, 5 * time.Hour, lifecycleActions{}},
		{"tag filter needs the tag", []object{obj("v1", 0, false)},
			[]activeRule{rule(LifecycleRule{Filter: &LifecycleRuleFilter{Tag: &Tag{Key: awsproto.Ptr("k"), Value: awsproto.Ptr("v")}}, Expiration: &LifecycleExpiration{Days: days(1)}})},
			5 * time.Hour, lifecycleActions{}},
		{"size filter selects larger objects", []object{obj("v1", 0, false)},
			[]activeRule{rule(LifecycleRule{Filter: &LifecycleRuleFilter{ObjectSizeGreaterThan: awsproto.Ptr(int64(5))}, Expiration: &LifecycleExpiration{Days: days(1)}})},
			5 * time.Hour, lifecycleActions{expireCurrent: true}},
		{"noncurrent counts from when it became noncurrent", []object{obj("v3", 3*time.Hour, false), obj("v2", 2*time.Hour, false), obj("v1", 0, false)},
			[]activeRule{rule(LifecycleRule{NoncurrentVersionExpiration: &NoncurrentVersionExpiration{NoncurrentDays: days(1)}})},
			3*time.Hour + 30*time.Minute, lifecycleActions{removeOld: []string{"v1"}}},
		{"newer noncurrent versions are kept", []object{obj("v3", 3*time.Hour, false), obj("v2", 2*time.Hour, false), obj("v1", 0, false)},
			[]activeRule{rule(LifecycleRule{NoncurrentVersionExpiration: &NoncurrentVersionExpiration{NoncurrentDays: days(1), NewerNoncurrentVersions: days(1)}})},
			10 * time.Hour, lifecycleActions{removeOld: []string{"v1"}}},
		{"lone delete marker is removed", []object{obj("m", 0, true)},
			[]activeRule{rule(LifecycleRule{Expiration: &LifecycleExpiration{ExpiredObjectDeleteMarker: awsproto.Ptr(true)}})},
			0, lifecycleActions{removeMarker: true}},
		{"delete marker over versions stays", []object{obj("m", time.Hour, true), obj("v1", 0, false)},
			[]activeRule{rule(LifecycleRule{Expiration: &LifecycleExpiration{ExpiredObjectDeleteMarker: awsproto.Ptr(true)}})},
			0, lifecycleActions{}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := decideLifecycle(tc.vs, tc.rules, clock, t0.Add(tc.now))
			if got.expireCurrent != tc.want.expireCurrent || got.removeMarker != tc.want.removeMarker || len(got.removeOld) != len(tc.want.removeOld) {
				t.Fatalf("actions = %+v, want %+v", got, tc.want)
			}
			for i := range got.removeOld {
				if got.removeOld[i] != tc.want.removeOld[i] {
					t.Fatalf("actions = %+v, want %+v", got, tc.want)
				}
			}
		})
	}
}

func TestLifecycleDaysRoundToMidnight(t *testing.T) {
	c := lifecycleClock{day: 24 * time.Hour}
	got := c.after(time.Date(2030, 3, 1, 15, 4, 0, 0, time.UTC), 2)
	if want := time.Date(2030, 3, 4, 0, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Fatalf("after = %s, want %s", got, want)
	}
}
