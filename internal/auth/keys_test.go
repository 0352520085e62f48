package auth

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLoadKeysFile(t *testing.T) {
	const secretA = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"
	tests := []struct {
		name    string
		content string
		want    []Key
		wantErr string // substring; "" → success
	}{
		{
			name: "comments blank lines and spaces are skipped",
			content: "\ufeff# kiri keys\n\n  # indented comment\n" +
				"AKIAIOSFODNN7EXAMPLE," + secretA + ",123456789012\r\n" +
				"  AKIA2222222222222222 , s2+/= , 210987654321  \n\n",
			want: []Key{
				{AccessKeyID: "AKIAIOSFODNN7EXAMPLE", SecretAccessKey: secretA, AccountID: "123456789012"},
				{AccessKeyID: "AKIA2222222222222222", SecretAccessKey: "s2+/=", AccountID: "210987654321"},
			},
		},
		{name: "empty file has no keys", content: "# nothing\n"},
		{name: "too few fields names the line", content: "# c\nAKIAIOSFODNN7EXAMPLE," + secretA + "\n",
			wantErr: "line 2: want 3 fields"},
		{name: "too many fields", content: "AKIAIOSFODNN7EXAMPLE,a,123456789012,x\n", wantErr: "line 1: want 3 fields"},
		{name: "short access key id", content: "AKIA,secret,123456789012\n", wantErr: "line 1: access key id"},
		{name: "access key id with slash", content: "AKIAIOSFODNN7/EXAMPLE,secret,123456789012\n", wantErr: "line 1: access key id"},
		{name: "empty secret", content: "AKIAIOSFODNN7EXAMPLE, ,123456789012\n", wantErr: "line 1: secret access key"},
		{name: "account id not twelve digits", content: "AKIAIOSFODNN7EXAMPLE,secret,12345\n", wantErr: "line 1: account id"},
		{name: "duplicate ids name both lines",
			content: "AKIAIOSFODNN7EXAMPLE,a,123456789012\n\nAKIAIOSFODNN7EXAMPLE,b,210987654321\n",
			wantErr: "line 3: access key id AKIAIOSFODNN7EXAMPLE already defined on line 1"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "keys.csv")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			got, err := LoadKeysFile(path)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tc.wantErr)
				}
				if strings.Contains(err.Error(), secretA) {
					t.Errorf("error %q leaks the secret", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("LoadKeysFile: %v", err)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %d keys, want %d", len(got), len(tc.want))
			}
			for i := range got {
				if !reflect.DeepEqual(got[i], tc.want[i]) {
					t.Errorf("key %d = %#v, want %#v", i, got[i], tc.want[i])
				}
			}
		})
	}
}

func TestLoadKeysFileMissing(t *testing.T) {
	_, err := LoadKeysFile(filepath.Join(t.TempDir(), "absent.csv"))
	if err == nil || !strings.Contains(err.Error(), "read keys file") {
		t.Fatalf("error = %v, want a read error", err)
	}
}

func TestKeysFileKeysVerify(t *testing.T) {
	path := filepath.Join(t.TempDir(), "keys.csv")
	content := testKeyID + "," + testSecret + "," + testAccount + "\n"
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	keys, err := LoadKeysFile(path)
	if err != nil {
		t.Fatal(err)
	}
	a := New(Config{Mode: Strict, Keys: keys, Now: testClock})
	r := request{url: "/bucket/k", payloadHash: UnsignedPayload, contentSHA: true}.sign(t)
	id, err := a.Verify(t.Context(), r, nil, targetS3)
	if err != nil || id.AccountID != testAccount {
		t.Fatalf("Verify = %v, %v; want account %s", id, err, testAccount)
	}
}
