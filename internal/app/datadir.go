package app

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/kiri-run/kiri/internal/auth"
)

// openDataDir creates (or, for --ephemeral, makes up) the data directory and takes its lock,
// so a second Kiri on the same directory fails at once instead of corrupting it.
func (a *App) openDataDir() error {
	if a.cfg.Ephemeral {
		dir, err := os.MkdirTemp("", "kiri-ephemeral-*")
		if err != nil {
			return fmt.Errorf("create ephemeral data dir: %w", err)
		}
		a.cfg.DataDir = dir
	}
	if a.cfg.DataDir == "" {
		a.cfg.DataDir = DefaultDataDir()
	}
	if err := os.MkdirAll(a.cfg.DataDir, 0o700); err != nil {
		return fmt.Errorf("create data dir: %w", err)
	}
	path := filepath.Join(a.cfg.DataDir, "kiri.lock")
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("open lock file: %w", err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		owner, _ := os.ReadFile(path)
		f.Close()
		if errors.Is(err, syscall.EWOULDBLOCK) {
			return fmt.Errorf("data dir %s is in use by another kiri (pid %s); stop it or pass a different --data-dir",
				a.cfg.DataDir, strings.TrimSpace(string(owner)))
		}
		return fmt.Errorf("lock data dir %s: %w", a.cfg.DataDir, err)
	}
	f.Truncate(0)
	f.WriteAt([]byte(strconv.Itoa(os.Getpid())+"\n"), 0)
	a.lock = f
	return nil
}

// nodeID returns this data directory's node identity, creating it on first start. The queue
// engine leases work under it, so a restarted node takes back what it held when it crashed.
func (a *App) nodeID() (string, error) {
	path := filepath.Join(a.cfg.DataDir, "node-id")
	if b, err := os.ReadFile(path); err == nil && len(strings.TrimSpace(string(b))) > 0 {
		return strings.TrimSpace(string(b)), nil
	} else if err != nil && !errors.Is(err, os.ErrNotExist) {
		return "", fmt.Errorf("read node id: %w", err)
	}
	var b [8]byte
	rand.Read(b[:])
	id := hex.EncodeToString(b[:])
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(id+"\n"), 0o600); err != nil {
		return "", fmt.Errorf("write node id: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return "", fmt.Errorf("write node id: %w", err)
	}
	return id, nil
}

// checkExposure refuses to serve beyond loopback without strict auth: dev mode accepts any
// key, which is safe only when nobody else can connect.
func checkExposure(addr string, mode auth.Mode) error {
	if mode == auth.Strict {
		return nil
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return fmt.Errorf("--addr %q: %w", addr, err)
	}
	if host == "localhost" {
		return nil
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
		return nil
	}
	return fmt.Errorf("refusing to listen on %s with --auth=dev: dev mode accepts any credentials, so it only "+
		"serves loopback addresses (127.0.0.1, ::1, localhost). Use --auth=strict --keys-file FILE to serve other hosts", addr)
}
