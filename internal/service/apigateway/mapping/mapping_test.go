package mapping

import "testing"

func TestRenderBasics(t *testing.T) {
	t.Parallel()
	in := Input{Body: []byte(`{"a":"x","n":1.50,"o":{"k":[1,2]}}`)}
	for _, tc := range []struct{ name, tpl, want string }{
		{"plain text passes through", "hello", "hello"},
		{"input.body is the raw body", "$input.body", `{"a":"x","n":1.50,"o":{"k":[1,2]}}`},
		{"input.json of root is the document", "$input.json('$')", `{"a":"x","n":1.50,"o":{"k":[1,2]}}`},
		{"input.json of a string is quoted", "$input.json('$.a')", `"x"`},
		{"input.path of a string is raw", "$input.path('$.a')", `x`},
		{"numbers keep their text", "$input.json('$.n') $input.path('$.n')", `1.50 1.50`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Render(tc.tpl, in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("got %q, want %q", got, tc.want)
			}
		})
	}
}
