package expr

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/service/dynamodb/attr"
)

var fuzzNames = map[string]string{"#a": "a", "#b": "b", "#n": "n", "#l": "l", "#k": "pk"}

const fuzzValues = `{":s":{"S":"ab"},":s2":{"S":"b"},":n":{"N":"5"},":n2":{"N":"-1.5"},":l":{"L":[{"N":"1"}]},` +
	`":m":{"M":{"x":{"S":"y"}}},":ss":{"SS":["ab","c"]},":ns":{"NS":["5"]},":b":{"B":"AQ=="},":t":{"BOOL":true},` +
	`":z":{"NULL":true},":T":{"S":"S"}}`

var fuzzItems = []string{
	`{"a":{"S":"ab"},"b":{"N":"5"},"n":{"N":"10"},"l":{"L":[{"N":"1"},{"M":{"x":{"S":"y"}}}]},"m":{"M":{"x":{"S":"y"},"d":{"M":{}}}},"s":{"SS":["ab"]},"pk":{"S":"p"}}`,
	`{"a":{"N":"5"},"l":{"L":[]},"m":{"S":"not a map"},"s":{"NS":["5"]}}`,
	``,
}

var fuzzSeeds = []string{
	"a = :s", "a <> b", "#a < :n AND NOT attribute_exists(b)", "size(l) > :n OR contains(s, :s)",
	"a BETWEEN :n2 AND :n", "a IN (:s, :n, b)", "(a) = (:s)", "((a = :s))", "attribute_type(a, :T)",
	"begins_with(a, :s2)", "m.x = :s AND l[1].x = :s", "(m.d).e = :s", "NOT NOT a = b", "a = :s OR",
	"status = :s", "#missing = :s", "a = :undefined", "SET a = :s", "SET a = a + :n, b = list_append(l, :l)",
	"REMOVE a, l[0] ADD n :n DELETE s :ss", "SET m.x = if_not_exists(m.x, :s)", "SET l[9] = :t",
	"a, b, l[1].x", "pk = :s AND begins_with(a, :s2)", "pk = :s AND b BETWEEN :n2 AND :n", ":n >= b AND pk = :s",
	"SET #a = :m REMOVE #b", "!!", "()", "", "ü", "a[99999999999999999999] = :s", "SET a = ((b))",
}

// checkError fails unless err is a ValidationException with a message.
func checkError(t *testing.T, err error) {
	t.Helper()
	var ae *awsproto.Error
	if !errors.As(err, &ae) || ae.Code != "ValidationException" || ae.Message == "" {
		t.Fatalf("error %v (%T) is not a ValidationException with a message", err, err)
	}
}

var (
	fuzzValueMap  = mustItem(fuzzValues)
	fuzzItemCache = func() map[string]attr.Item {
		m := map[string]attr.Item{}
		for _, s := range fuzzItems {
			m[s] = mustItem(s)
		}
		return m
	}()
)

func mustItem(s string) attr.Item {
	if s == "" {
		return nil
	}
	var it attr.Item
	if err := json.Unmarshal([]byte(s), &it); err != nil {
		panic(err)
	}
	return it
}

func fuzzParams(t *testing.T) *Params {
	p, err := ValueParams(fuzzNames, fuzzValueMap)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// FuzzCondition parses arbitrary conditions: no panic, every refusal a ValidationException,
// and an accepted condition prints to text that parses to the same condition (printing again
// gives the same text) and evaluates the same on every item.
func FuzzCondition(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		for _, kind := range []string{KindCondition, KindKeyCondition} {
			p := fuzzParams(t)
			var c *Condition
			var err error
			if kind == KindKeyCondition {
				var k *KeyCondition
				if k, err = p.KeyCondition(src); err == nil {
					fuzzKey(t, k)
					c = &Condition{root: k.root}
				}
			} else {
				c, err = p.Condition(kind, src)
			}
			if err != nil {
				checkError(t, err)
				continue
			}
			_ = c.Heads()
			printed := c.String()
			again, err := fuzzParams(t).Condition(KindCondition, printed)
			if kind == KindKeyCondition && err != nil {
				continue // a key condition may use the key-only checks' leniency
			}
			if err != nil {
				t.Fatalf("%q printed as %q, which does not parse: %v", src, printed, err)
			}
			if again.String() != printed {
				t.Fatalf("%q printed as %q, then as %q", src, printed, again.String())
			}
			for _, s := range fuzzItems {
				it := fuzzItemCache[s]
				if c.Eval(it) != again.Eval(it) {
					t.Fatalf("%q and its print %q disagree on %s", src, printed, s)
				}
			}
		}
	})
}

func fuzzKey(t *testing.T, k *KeyCondition) {
	if err := k.Check(); err != nil {
		checkError(t, err)
		return
	}
	for _, schema := range []KeySchema{
		{Partition: "pk", PartitionType: attr.S, Sort: "a", SortType: attr.S},
		{Partition: "pk", PartitionType: attr.S, Sort: "b", SortType: attr.N},
		{Partition: "pk", PartitionType: attr.S},
	} {
		q, err := k.Resolve(schema)
		if err != nil {
			checkError(t, err)
			continue
		}
		if q.Sort == nil {
			continue
		}
		lo, hi := q.Sort.Bounds()
		for _, v := range []attr.Value{attr.Str(""), attr.Str("a"), attr.Str("ab"), attr.Str("b"), attr.Int(-2), attr.Int(5), attr.Int(6)} {
			if v.Type() != schema.SortType {
				continue
			}
			if q.Sort.Match(v) != InBounds(attr.AppendKey(nil, v), lo, hi) {
				t.Fatalf("%+v: Match and Bounds disagree on %v", q.Sort, v)
			}
		}
	}
}

// FuzzUpdate parses arbitrary updates: no panic, every refusal a ValidationException, and an
// accepted update applies without panicking, prints to text that parses to the same update,
// and applies the same way as that text.
func FuzzUpdate(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		u, err := fuzzParams(t).Update(src)
		if err != nil {
			checkError(t, err)
			return
		}
		printed := u.String()
		again, err := fuzzParams(t).Update(printed)
		if err != nil {
			t.Fatalf("%q printed as %q, which does not parse: %v", src, printed, err)
		}
		if again.String() != printed {
			t.Fatalf("%q printed as %q, then as %q", src, printed, again.String())
		}
		_ = u.Actions()
		for _, s := range fuzzItems {
			before := fuzzItemCache[s]
			a, errA := u.Apply(before)
			b, errB := again.Apply(fuzzItemCache[s])
			if errA != nil {
				checkError(t, errA)
				if errB == nil || errB.Error() != errA.Error() {
					t.Fatalf("%q on %s: %v, its print: %v", src, s, errA, errB)
				}
				continue
			}
			if errB != nil || itemJSON(a) != itemJSON(b) {
				t.Fatalf("%q on %s: %s, its print: %s %v", src, s, itemJSON(a), itemJSON(b), errB)
			}
			if before != nil && itemJSON(before) != itemJSON(fuzzItemCache[s]) {
				t.Fatalf("%q changed the item it was applied to", src)
			}
			_ = u.Changed(a)
			_ = a.Size()
		}
	})
}

// FuzzProjection parses arbitrary projections: no panic, every refusal a ValidationException,
// and a projection selects only what the item holds.
func FuzzProjection(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		pr, err := fuzzParams(t).Projection(src)
		if err != nil {
			checkError(t, err)
			return
		}
		for _, s := range fuzzItems {
			it := fuzzItemCache[s]
			for name := range pr.Apply(it) {
				if _, ok := it[name]; !ok {
					t.Fatalf("%q selected %q from %s", src, name, s)
				}
			}
		}
		if strings.Count(pr.String(), "[") < len(pr.Paths()) {
			t.Fatalf("%q: paths %s", src, pr.String())
		}
	})
}
