package runtime

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/sandboxinit"
)

// An instance with the sandboxed network lives in a network namespace of its own that holds
// only a loopback interface. Kiri listens inside it, on sockets the sandbox init creates there
// and hands over: the Runtime API, Kiri's endpoint (AWS_ENDPOINT_URL keeps its host address),
// each loopback port the operator allows, and an HTTP proxy (HTTP_PROXY/HTTPS_PROXY) through
// which the function reaches the outside network, after the proxy has checked the destination.
// Nothing can connect into the namespace, and nothing in it can reach the host's loopback, its
// other interfaces or private ranges except what is allowed.

// sandboxProxyPort is where the outbound proxy listens inside a sandboxed network.
const sandboxProxyPort = 9002

// NetAllow is one entry of the operator's allow-list: an address range and, when Port is not
// zero, one port.
type NetAllow struct {
	Prefix netip.Prefix
	Port   int
}

// ParseNetAllow parses a comma-separated allow-list of CIDRs or addresses, each with an
// optional port: "127.0.0.1:8080,10.0.0.0/8,[::1]:9000".
func ParseNetAllow(s string) ([]NetAllow, error) {
	var out []NetAllow
	for _, item := range strings.Split(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		var a NetAllow
		host := item
		if h, p, err := net.SplitHostPort(item); err == nil {
			port, err := strconv.Atoi(p)
			if err != nil || port < 1 || port > 65535 {
				return nil, fmt.Errorf("network allow %q: bad port", item)
			}
			host, a.Port = h, port
		}
		if pfx, err := netip.ParsePrefix(host); err == nil {
			a.Prefix = pfx.Masked()
		} else if addr, err := netip.ParseAddr(host); err == nil {
			a.Prefix = netip.PrefixFrom(addr, addr.BitLen())
		} else {
			return nil, fmt.Errorf("network allow %q: not an address or CIDR", item)
		}
		out = append(out, a)
	}
	return out, nil
}

// netPolicy decides which destinations a sandboxed function may reach.
type netPolicy struct {
	allow    []NetAllow
	endpoint netip.AddrPort // Kiri's endpoint, always reachable
}

// allowed reports whether the function may connect to dst.
func (np *netPolicy) allowed(dst netip.AddrPort) bool {
	dst = netip.AddrPortFrom(dst.Addr().Unmap(), dst.Port())
	if dst == np.endpoint {
		return true
	}
	for _, a := range np.allow {
		if a.Prefix.Contains(dst.Addr()) && (a.Port == 0 || a.Port == int(dst.Port())) {
			return true
		}
	}
	return public(dst.Addr())
}

// public reports addresses on the outside network: not loopback, private, link-local,
// shared (CGNAT), multicast or unspecified.
func public(a netip.Addr) bool {
	if !a.IsGlobalUnicast() || a.IsPrivate() {
		return false
	}
	for _, p := range nonPublic {
		if p.Contains(a) {
			return false
		}
	}
	return true
}

var nonPublic = []netip.Prefix{
	netip.MustParsePrefix("0.0.0.0/8"), netip.MustParsePrefix("100.64.0.0/10"),
	netip.MustParsePrefix("192.0.0.0/24"), netip.MustParsePrefix("198.18.0.0/15"),
	netip.MustParsePrefix("240.0.0.0/4"), netip.MustParsePrefix("64:ff9b::/96"),
}

// forwardPorts are the loopback ports a sandboxed instance gets forwarded to the host: Kiri's
// endpoint and every allowed loopback address with a port.
func (np *netPolicy) forwardPorts() []int {
	var ports []int
	if np.endpoint.Addr().IsLoopback() {
		ports = append(ports, int(np.endpoint.Port()))
	}
	for _, a := range np.allow {
		if a.Port != 0 && a.Prefix.Contains(netip.MustParseAddr("127.0.0.1")) && a.Port != int(np.endpoint.Port()) && a.Port != sandboxinit.RuntimeAPIPort && a.Port != sandboxProxyPort {
			ports = append(ports, a.Port)
		}
	}
	return ports
}

// endpointAddr is the loopback address and port of Kiri's endpoint URL, if it has one.
func endpointAddr(endpoint string) netip.AddrPort {
	u, err := url.Parse(endpoint)
	if err != nil {
		return netip.AddrPort{}
	}
	port := u.Port()
	if port == "" {
		port = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	ap, _ := netip.ParseAddrPort(net.JoinHostPort(u.Hostname(), port))
	if !ap.IsValid() && u.Hostname() == "localhost" {
		ap, _ = netip.ParseAddrPort(net.JoinHostPort("127.0.0.1", port))
	}
	return ap
}

// sandboxNet serves one instance's sandboxed network from Kiri's side.
type sandboxNet struct {
	policy *netPolicy
	lns    []net.Listener
	srv    *http.Server
	wg     sync.WaitGroup
	dialer net.Dialer
}

// serveSandboxNet serves listeners received from the instance's namespace: forwards[i] to
// 127.0.0.1:ports[i] on the host, and proxy as the outbound proxy.
func serveSandboxNet(np *netPolicy, ports []int, forwards []net.Listener, proxy net.Listener) *sandboxNet {
	sn := &sandboxNet{policy: np, lns: append(forwards, proxy), dialer: net.Dialer{Timeout: 10 * time.Second}}
	for i, ln := range forwards {
		dst := net.JoinHostPort("127.0.0.1", strconv.Itoa(ports[i]))
		sn.wg.Add(1)
		go func() {
			defer sn.wg.Done()
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				go sn.forward(c, dst)
			}
		}()
	}
	sn.srv = &http.Server{Handler: http.HandlerFunc(sn.proxy), ReadHeaderTimeout: 30 * time.Second}
	sn.wg.Add(1)
	go func() {
		defer sn.wg.Done()
		sn.srv.Serve(proxy)
	}()
	return sn
}

// close stops listening; connections under way end with the instance's process.
func (sn *sandboxNet) close() {
	for _, ln := range sn.lns {
		ln.Close()
	}
	sn.srv.Close()
}

// forward splices c to the host address dst.
func (sn *sandboxNet) forward(c net.Conn, dst string) {
	up, err := sn.dialer.Dial("tcp", dst)
	if err != nil {
		c.Close()
		return
	}
	splice(c, up)
}

// splice copies both ways until both sides are done, then closes both.
func splice(a, b net.Conn) {
	done := make(chan struct{}, 2)
	cp := func(dst, src net.Conn) {
		io.Copy(dst, src)
		if tc, ok := dst.(interface{ CloseWrite() error }); ok {
			tc.CloseWrite()
		}
		done <- struct{}{}
	}
	go cp(a, b)
	go cp(b, a)
	<-done
	<-done
	a.Close()
	b.Close()
}

// errForbidden reports a destination the policy refuses.
var errForbidden = errors.New("destination not allowed by the function network policy")

// dial resolves host:port and connects to the first address the policy allows; an address it
// refuses is never dialled, so a name cannot be rebound to one.
func (sn *sandboxNet) dial(ctx context.Context, hostport string) (net.Conn, error) {
	host, port, err := net.SplitHostPort(hostport)
	if err != nil {
		return nil, err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return nil, err
	}
	addrs, err := net.DefaultResolver.LookupNetIP(ctx, "ip", host)
	if err != nil {
		return nil, err
	}
	err = errForbidden
	for _, a := range addrs {
		dst := netip.AddrPortFrom(a.Unmap(), uint16(p))
		if !sn.policy.allowed(dst) {
			continue
		}
		var c net.Conn
		if c, err = sn.dialer.DialContext(ctx, "tcp", dst.String()); err == nil {
			return c, nil
		}
	}
	return nil, err
}

// proxy serves CONNECT tunnels and plain HTTP requests in absolute form.
func (sn *sandboxNet) proxy(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodConnect {
		up, err := sn.dial(r.Context(), r.Host)
		if err != nil {
			proxyError(w, err)
			return
		}
		hj, ok := w.(http.Hijacker)
		if !ok {
			up.Close()
			http.Error(w, "no tunnel", http.StatusInternalServerError)
			return
		}
		c, rw, err := hj.Hijack()
		if err != nil {
			up.Close()
			return
		}
		rw.WriteString("HTTP/1.1 200 Connection established\r\n\r\n")
		if err := rw.Flush(); err != nil {
			c.Close()
			up.Close()
			return
		}
		if n := rw.Reader.Buffered(); n > 0 {
			b, _ := rw.Reader.Peek(n)
			up.Write(b)
		}
		splice(c, up)
		return
	}
	if r.URL.Scheme != "http" || r.URL.Host == "" {
		http.Error(w, "only absolute http URLs and CONNECT are proxied", http.StatusBadRequest)
		return
	}
	hostport := r.URL.Host
	if r.URL.Port() == "" {
		hostport = net.JoinHostPort(r.URL.Hostname(), "80")
	}
	up, err := sn.dial(r.Context(), hostport)
	if err != nil {
		proxyError(w, err)
		return
	}
	defer up.Close()
	out := r.Clone(r.Context())
	out.RequestURI = ""
	out.Header.Del("Proxy-Connection")
	out.Header.Del("Proxy-Authorization")
	out.Close = true
	if err := out.Write(up); err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	resp, err := http.ReadResponse(bufio.NewReader(up), out)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadGateway)
		return
	}
	defer resp.Body.Close()
	for k, v := range resp.Header {
		w.Header()[k] = v
	}
	w.WriteHeader(resp.StatusCode)
	io.Copy(w, resp.Body)
}

func proxyError(w http.ResponseWriter, err error) {
	if errors.Is(err, errForbidden) {
		http.Error(w, err.Error(), http.StatusForbidden)
		return
	}
	http.Error(w, err.Error(), http.StatusBadGateway)
}

// proxyEnv are the variables that send a sandboxed function's outbound HTTP through the proxy;
// loopback (Kiri's endpoint and allowed ports, forwarded into the namespace) goes direct.
func proxyEnv() []string {
	proxy := "http://127.0.0.1:" + strconv.Itoa(sandboxProxyPort)
	noProxy := "localhost,127.0.0.1,::1"
	return []string{
		"HTTP_PROXY=" + proxy, "HTTPS_PROXY=" + proxy, "http_proxy=" + proxy, "https_proxy=" + proxy,
		"NO_PROXY=" + noProxy, "no_proxy=" + noProxy, "NODE_USE_ENV_PROXY=1",
	}
}
