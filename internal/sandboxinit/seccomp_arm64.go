//go:build linux

package sandboxinit

import "golang.org/x/sys/unix"

// auditArch is the seccomp architecture the filter accepts.
const auditArch = unix.AUDIT_ARCH_AARCH64

// x32SyscallBit is zero: arm64 has no second syscall ABI to refuse.
const x32SyscallBit = 0

// archDeniedSyscalls are denied syscalls that only this architecture has.
var archDeniedSyscalls = []uintptr{unix.SYS_LOOKUP_DCOOKIE}
