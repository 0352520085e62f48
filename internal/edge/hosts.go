package edge

import (
	"net"
	"strings"
)

// localRoots are the domains under which Kiri serves names of its own (buckets, function URLs,
// API stages): .localhost, which resolvers send to loopback, and LocalStack's
// localhost.localstack.cloud, which resolves publicly to 127.0.0.1, so that scripts written for
// LocalStack work unchanged.
var localRoots = []string{"localhost.localstack.cloud", "localhost"}

// localName returns the labels in front of a local root in host (port and case ignored):
// "photos.localhost:4566" → "photos"; "localhost.localstack.cloud" → "". It reports false for a
// host under no local root.
func localName(host string) (string, bool) {
	host = hostOnly(host)
	for _, root := range localRoots {
		if host == root {
			return "", true
		}
		if prefix, ok := strings.CutSuffix(host, "."+root); ok && prefix != "" {
			return prefix, true
		}
	}
	return "", false
}

// hostOnly lower-cases host and drops its port, its IPv6 brackets and a trailing dot.
func hostOnly(host string) string {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.TrimPrefix(host, "["), "]")
	return strings.TrimSuffix(strings.ToLower(host), ".")
}
