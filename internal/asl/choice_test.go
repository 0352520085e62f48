package asl

import (
	"encoding/json"
	"testing"
)

func TestStringMatches(t *testing.T) {
	t.Parallel()
	for _, c := range []struct {
		s, pattern string
		want       bool
	}{
		{"log-2024.txt", "log-*.txt", true},
		{"log-.txt", "log-*.txt", true},
		{"log-2024.csv", "log-*.txt", false},
		{"a*b", `a\*b`, true},
		{"axb", `a\*b`, false},
		{`a\b`, `a\\b`, true},
		{"abcabc", "*abc", true},
		{"", "*", true},
		{"x", "", false},
		{"ünïcode", "ü*e", true},
	} {
		if got := stringMatches(c.s, c.pattern); got != c.want {
			t.Errorf("stringMatches(%q, %q) = %v, want %v", c.s, c.pattern, got, c.want)
		}
	}
}

func TestChoiceComparisons(t *testing.T) {
	t.Parallel()
	num := func(s string) any { return json.Number(s) }
	for _, c := range []struct {
		op         string
		v, operand any
		want       bool
	}{
		{"NumericEquals", num("1"), num("1.0"), true},
		{"NumericLessThan", num("1"), num("1.5"), true},
		{"NumericGreaterThanEquals", num("2"), num("2"), true},
		{"NumericEquals", "1", num("1"), false},
		{"StringEquals", "a", "a", true},
		{"StringLessThan", "a", "b", true},
		{"StringGreaterThanEquals", "b", "b", true},
		{"StringEquals", num("1"), "1", false},
		{"BooleanEquals", true, true, true},
		{"BooleanEquals", "true", true, false},
		{"TimestampEquals", "2024-01-01T00:00:00Z", "2024-01-01T01:00:00+01:00", true},
		{"TimestampLessThan", "2024-01-01T00:00:00Z", "2024-01-02T00:00:00Z", true},
		{"TimestampGreaterThan", "not a time", "2024-01-02T00:00:00Z", false},
		{"IsNull", nil, true, true},
		{"IsNull", num("0"), false, true},
		{"IsNumeric", num("3"), true, true},
		{"IsString", "x", true, true},
		{"IsBoolean", false, true, true},
		{"IsTimestamp", "2024-01-01T00:00:00Z", true, true},
		{"IsTimestamp", "2024-01-01", true, false},
	} {
		if got := compareChoice(c.op, c.v, c.operand); got != c.want {
			t.Errorf("%s(%v, %v) = %v, want %v", c.op, c.v, c.operand, got, c.want)
		}
	}
}

func TestChoiceRules(t *testing.T) {
	t.Parallel()
	def := `{"StartAt":"C","States":{
		"C":{"Type":"Choice","Choices":[
			{"And":[{"Variable":"$.n","IsPresent":true},{"Variable":"$.n","NumericGreaterThanPath":"$.limit"}],"Next":"Big"},
			{"Not":{"Variable":"$.s","StringMatches":"ok*"},"Next":"Bad"},
			{"Or":[{"Variable":"$.s","StringEquals":"okay"},{"Variable":"$.flag","BooleanEquals":true}],"Next":"Okay"}],
			"Default":"Other"},
		"Big":{"Type":"Pass","Result":"big","End":true},
		"Bad":{"Type":"Pass","Result":"bad","End":true},
		"Okay":{"Type":"Pass","Result":"okay","End":true},
		"Other":{"Type":"Pass","Result":"other","End":true}}}`
	for input, want := range map[string]string{
		`{"n":5,"limit":3,"s":"x"}`: `"big"`,
		`{"n":1,"limit":3,"s":"x"}`: `"bad"`,
		`{"s":"okay"}`:              `"okay"`,
		`{"s":"ok!","flag":true}`:   `"okay"`,
		`{"s":"ok!","flag":false}`:  `"other"`,
	} {
		r, _ := execute(t, def, input, nil)
		if status, out, name, cause := r.Status(); status != StatusSucceeded || string(out) != want {
			t.Errorf("input %s: %s %s %s %s, want %s", input, status, out, name, cause, want)
		}
	}
	r, _ := execute(t, def, `{}`, nil)
	if status, _, name, _ := r.Status(); status != StatusFailed || name != "States.Runtime" {
		t.Errorf("a missing variable: %s %s", status, name)
	}
	r, _ = execute(t, `{"StartAt":"C","States":{"C":{"Type":"Choice","Choices":[
		{"Variable":"$.a","IsPresent":true,"Next":"E"}]},"E":{"Type":"Succeed"}}}`, `{}`, nil)
	if status, _, name, _ := r.Status(); status != StatusFailed || name != "States.NoChoiceMatched" {
		t.Errorf("no match without Default: %s %s", status, name)
	}
}
