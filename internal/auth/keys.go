package auth

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"strings"
)

// LoadKeysFile reads long-term keys from a CSV file with one
// ACCESS_KEY_ID,SECRET_ACCESS_KEY,ACCOUNT_ID per line. Blank lines and lines
// starting with '#' are skipped. Errors name the line but never quote it, so
// a secret cannot leak into a log; duplicate access key ids are rejected.
func LoadKeysFile(path string) ([]Key, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read keys file: %w", err)
	}
	keys, err := parseKeys(data)
	if err != nil {
		return nil, fmt.Errorf("keys file %s: %w", path, err)
	}
	return keys, nil
}

func parseKeys(data []byte) ([]Key, error) {
	data = bytes.TrimPrefix(data, []byte("\xef\xbb\xbf"))
	var keys []Key
	seen := make(map[string]int)
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 0, 4096), 1<<20)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := parseKeyLine(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		if first, dup := seen[k.AccessKeyID]; dup {
			return nil, fmt.Errorf("line %d: access key id %s already defined on line %d", n, k.AccessKeyID, first)
		}
		seen[k.AccessKeyID] = n
		keys = append(keys, k)
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("scan: %w", err)
	}
	return keys, nil
}

func parseKeyLine(line string) (Key, error) {
	fields := strings.Split(line, ",")
	if len(fields) != 3 {
		return Key{}, fmt.Errorf("want 3 fields ACCESS_KEY_ID,SECRET_ACCESS_KEY,ACCOUNT_ID, got %d", len(fields))
	}
	for i := range fields {
		fields[i] = strings.TrimSpace(fields[i])
	}
	k := Key{AccessKeyID: fields[0], SecretAccessKey: fields[1], AccountID: fields[2]}
	switch {
	case !validAccessKeyID(k.AccessKeyID):
		return Key{}, fmt.Errorf("access key id must be 16 to 128 letters, digits or '_'")
	case k.SecretAccessKey == "" || strings.ContainsAny(k.SecretAccessKey, " \t"):
		return Key{}, fmt.Errorf("secret access key of %s is empty or contains white space", k.AccessKeyID)
	case !isDigits(k.AccountID, 12):
		return Key{}, fmt.Errorf("account id of %s must be 12 digits", k.AccessKeyID)
	}
	return k, nil
}

// validAccessKeyID applies IAM's constraint on access key ids.
func validAccessKeyID(id string) bool {
	if len(id) < 16 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !('A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}
