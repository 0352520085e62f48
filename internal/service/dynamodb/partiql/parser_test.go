package partiql

import (
	"strings"
	"testing"
)

func TestParseStatements(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name, src string
		check     func(*Statement) bool
	}{
		{"select star", `SELECT * FROM "t" WHERE pk = 'a' AND sk BETWEEN 1 AND 5`, func(s *Statement) bool {
			b, ok := s.Where.(*Binary)
			return s.Kind == Select && s.Table == "t" && s.Projection == nil && ok && b.Op == "AND"
		}},
		{"select from an index", `select a, b.c[2] from "t"."idx" where pk = ?`, func(s *Statement) bool {
			return s.Index == "idx" && len(s.Projection) == 2 && len(s.Projection[1]) == 3 && s.Projection[1][2].Index == 2 && s.Params == 1
		}},
		{"insert", `INSERT INTO "t" VALUE {'pk': 'a', 'n': -1.5, 'l': [1, 'x'], 's': <<'a', 'b'>>, 'm': {'k': ?}, 'z': NULL}`, func(s *Statement) bool {
			m, ok := s.Item.(*Map)
			return s.Kind == Insert && ok && len(m.Keys) == 6 && s.Params == 1
		}},
		{"update", `UPDATE "t" SET n = n + 1 SET l = list_append(l, [2]) REMOVE old WHERE pk = 'a' AND attribute_exists(n) RETURNING ALL NEW *`, func(s *Statement) bool {
			return s.Kind == Update && len(s.Sets) == 2 && len(s.Removes) == 1 && s.Returning == "ALL NEW"
		}},
		{"delete", `DELETE FROM t WHERE pk = 'a' AND NOT (x IS MISSING OR y IN ['1', '2'])`, func(s *Statement) bool {
			return s.Kind == Delete && s.Table == "t"
		}},
		{"quoted quotes", `SELECT * FROM "t" WHERE pk = 'it''s'`, func(s *Statement) bool {
			return s.Where.(*Binary).R.(*Lit).Text == "it's"
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st, err := Parse(tc.src)
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(st) {
				t.Fatalf("parsed %+v", st)
			}
		})
	}
}

func TestParseRefusesMalformedStatements(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"", "SELECT", "SELECT * FROM", `SELECT * FROM "t" WHERE`, `INSERT INTO "t" VALUE {'a' 1}`,
		`UPDATE "t" WHERE pk = 'a'`, `DELETE FROM "t"`, `SELECT * FROM "t" WHERE pk = 'unterminated`, `SELECT * FROM "t" extra`,
		`SELECT * FROM "t" WHERE a = ` + strings.Repeat("[", 200) + strings.Repeat("]", 200)} {
		if _, err := Parse(src); err == nil {
			t.Errorf("Parse(%q) succeeded", src)
		} else if !strings.HasPrefix(err.Error(), "Statement wasn't well formed, can't be processed: ") {
			t.Errorf("Parse(%q) = %v", src, err)
		}
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{`SELECT * FROM "t" WHERE pk = ? AND begins_with(sk, 'a')`, `INSERT INTO t VALUE {'a': [1, <<'x'>>, {'b': NULL}]}`,
		`UPDATE "t" SET a.b[1] = a.b[1] - 2 REMOVE c WHERE pk = 'x' RETURNING MODIFIED OLD *`, `DELETE FROM "t"."i" WHERE x IN (1, 2)`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, src string) {
		st, err := Parse(src)
		if err == nil && st.Kind == 0 {
			t.Fatalf("Parse(%q) gave a statement without a verb", src)
		}
	})
}
