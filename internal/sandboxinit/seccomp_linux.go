//go:build linux && (amd64 || arm64)

package sandboxinit

import (
	"fmt"
	"unsafe"

	"golang.org/x/sys/unix"
)

// seccompSetModeFilter is SECCOMP_SET_MODE_FILTER for the seccomp(2) syscall.
const seccompSetModeFilter = 1

// BPF opcodes used by the filter.
const (
	bpfLdW  = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
	bpfJeqK = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
	bpfJgeK = unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K
	bpfRetK = unix.BPF_RET | unix.BPF_K
)

// seccomp_data offsets.
const (
	seccompDataNr   = 0
	seccompDataArch = 4
)

// deniedSyscalls are refused with EPERM inside sandboxes: they change the host (mounts,
// modules, clocks, swap, reboot), inspect other processes (ptrace, process_vm_*), or open
// kernel attack surface (bpf, perf, userfaultfd, keyrings, new namespaces).
var deniedSyscalls = append([]uintptr{
	unix.SYS_MOUNT, unix.SYS_UMOUNT2, unix.SYS_PIVOT_ROOT, unix.SYS_CHROOT,
	unix.SYS_OPEN_TREE, unix.SYS_MOVE_MOUNT, unix.SYS_FSOPEN, unix.SYS_FSCONFIG,
	unix.SYS_FSMOUNT, unix.SYS_FSPICK, unix.SYS_MOUNT_SETATTR,
	unix.SYS_KEXEC_LOAD, unix.SYS_KEXEC_FILE_LOAD,
	unix.SYS_INIT_MODULE, unix.SYS_FINIT_MODULE, unix.SYS_DELETE_MODULE,
	unix.SYS_REBOOT, unix.SYS_SWAPON, unix.SYS_SWAPOFF,
	unix.SYS_BPF, unix.SYS_PTRACE, unix.SYS_PROCESS_VM_READV, unix.SYS_PROCESS_VM_WRITEV,
	unix.SYS_PERF_EVENT_OPEN, unix.SYS_USERFAULTFD,
	unix.SYS_KEYCTL, unix.SYS_ADD_KEY, unix.SYS_REQUEST_KEY,
	unix.SYS_UNSHARE, unix.SYS_SETNS,
	unix.SYS_OPEN_BY_HANDLE_AT, unix.SYS_NAME_TO_HANDLE_AT,
	unix.SYS_ACCT, unix.SYS_QUOTACTL, unix.SYS_SETTIMEOFDAY, unix.SYS_CLOCK_SETTIME,
	unix.SYS_CLOCK_ADJTIME, unix.SYS_ADJTIMEX, unix.SYS_SETHOSTNAME, unix.SYS_SETDOMAINNAME,
	unix.SYS_SYSLOG, unix.SYS_VHANGUP, unix.SYS_PERSONALITY,
}, archDeniedSyscalls...)

// seccompFilter builds the filter: wrong architecture or an x32 call is killed, a denied
// syscall returns EPERM, anything else is allowed.
func seccompFilter() []unix.SockFilter {
	prog := []unix.SockFilter{
		{Code: bpfLdW, K: seccompDataArch},
		{Code: bpfJeqK, Jt: 1, K: auditArch},
		{Code: bpfRetK, K: unix.SECCOMP_RET_KILL_PROCESS},
		{Code: bpfLdW, K: seccompDataNr},
	}
	if x32SyscallBit != 0 {
		prog = append(prog,
			unix.SockFilter{Code: bpfJgeK, Jf: 1, K: x32SyscallBit},
			unix.SockFilter{Code: bpfRetK, K: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)})
	}
	n := len(deniedSyscalls)
	for i, nr := range deniedSyscalls {
		// Jump to the EPERM return after the remaining comparisons and the ALLOW.
		prog = append(prog, unix.SockFilter{Code: bpfJeqK, Jt: uint8(n - i), K: uint32(nr)})
	}
	return append(prog,
		unix.SockFilter{Code: bpfRetK, K: unix.SECCOMP_RET_ALLOW},
		unix.SockFilter{Code: bpfRetK, K: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)})
}

// installSeccomp sets no_new_privs and installs the filter on every thread.
func installSeccomp() error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("no_new_privs: %w", err)
	}
	filter := seccompFilter()
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	_, _, errno := unix.RawSyscall(unix.SYS_SECCOMP, seccompSetModeFilter,
		unix.SECCOMP_FILTER_FLAG_TSYNC, uintptr(unsafe.Pointer(&prog)))
	if errno != 0 {
		return fmt.Errorf("install seccomp filter: %w", errno)
	}
	return nil
}
