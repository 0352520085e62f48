//go:build linux

package sandboxinit

import "golang.org/x/sys/unix"

// auditArch is the seccomp architecture the filter accepts.
const auditArch = unix.AUDIT_ARCH_X86_64

// x32SyscallBit marks x32 ABI syscall numbers, which the filter refuses.
const x32SyscallBit = 0x40000000

// archDeniedSyscalls are denied syscalls that only this architecture has.
var archDeniedSyscalls = []uintptr{unix.SYS_IOPL, unix.SYS_IOPERM, unix.SYS_LOOKUP_DCOOKIE}
