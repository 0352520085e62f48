package runtime

import (
	"net/netip"
	"testing"
)

func TestNetPolicyAllowsEndpointPublicAndListed(t *testing.T) {
	allow, err := ParseNetAllow("127.0.0.1:8080, 10.0.0.0/8,[::1]:9000")
	if err != nil {
		t.Fatal(err)
	}
	np := &netPolicy{allow: allow, endpoint: endpointAddr("http://127.0.0.1:4566")}
	for dst, want := range map[string]bool{
		"127.0.0.1:4566": true, "127.0.0.1:8080": true, "127.0.0.1:8081": false, "127.0.0.2:8080": false,
		"10.1.2.3:5432": true, "192.168.1.1:80": false, "172.16.0.1:80": false, "169.254.169.254:80": false,
		"100.64.0.1:80": false, "0.0.0.0:80": false, "[::1]:9000": true, "[::1]:9001": false, "[fe80::1]:80": false,
		"[fd00::1]:80": false, "93.184.216.34:443": true, "[2606:4700::1111]:443": true, "[::ffff:127.0.0.1]:22": false,
	} {
		if got := np.allowed(netip.MustParseAddrPort(dst)); got != want {
			t.Errorf("allowed(%s) = %v, want %v", dst, got, want)
		}
	}
	if got := np.forwardPorts(); len(got) != 2 || got[0] != 4566 || got[1] != 8080 {
		t.Errorf("forwardPorts() = %v, want [4566 8080]", got)
	}
	for _, bad := range []string{"nonsense", "10.0.0.0/8:0", "1.2.3.4:99999"} {
		if _, err := ParseNetAllow(bad); err == nil {
			t.Errorf("ParseNetAllow(%q) accepted", bad)
		}
	}
}
