package runtime

import (
	"os"
	"os/exec"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// defaultSpareInits is how many sandbox inits a pool keeps pre-started for cold starts.
const defaultSpareInits = 2

// spareNice is the nice value spares start with (when Kiri may undo it).
const spareNice = 19

// spareInit is a sandbox init already started with the default namespaces, blocked reading its
// spec from the control socket. A cold start claims it and only pays for the mounts and the
// exec of the function's program, not for re-executing Kiri.
//
// With cgroups, the spare already sits in a cgroup of its own that the claiming instance
// adopts, setting its limits. Moving a process into a cgroup v1 hierarchy waits for an RCU
// grace period, several milliseconds on this kind of host, which is too long for a cold start
// to pay.
type spareInit struct {
	cmd  *exec.Cmd
	ctrl *os.File
	cg   *instanceCgroup // nil without cgroups; the claimer owns it afterwards
	// netns reports that the spare has a network namespace of its own.
	netns bool
}

// stop kills the spare, reaps it and removes its cgroup.
func (s *spareInit) stop() {
	killGroup(s.cmd.Process.Pid)
	s.cmd.Wait()
	s.ctrl.Close()
	if s.cg != nil {
		s.cg.remove()
	}
}

// spareInits keeps up to want spare inits while cold starts use them: each claim is replaced
// in the background, and the spares are stopped once none has been claimed for idleAfter, or
// when the pool closes. Spares are not instances: they hold no function code or identity.
type spareInits struct {
	want      int
	idleAfter time.Duration
	sandbox   func() *sandbox
	detected  <-chan struct{} // closed once sandbox detection has finished
	kick      chan struct{}   // buffered: a claim or warm asks for a refill
	renice    bool            // Kiri may raise priorities again (root), so spares start niced
	stopped   <-chan struct{}

	mu       sync.Mutex
	ready    []*spareInit
	lastUsed time.Time
}

func newSpareInits(want int, idleAfter time.Duration, sb func() *sandbox, detected, stopped <-chan struct{}) *spareInits {
	return &spareInits{
		want: want, idleAfter: idleAfter, sandbox: sb, detected: detected, kick: make(chan struct{}, 1), stopped: stopped,
		renice: os.Geteuid() == 0,
	}
}

// warm asks for the spares to be started ahead of any cold start; they count as used now, so
// they live IdleTimeout unless cold starts use them.
func (s *spareInits) warm() {
	if s.want <= 0 {
		return
	}
	s.mu.Lock()
	s.lastUsed = time.Now()
	s.mu.Unlock()
	s.refill()
}

// claim returns a spare, or nil when none is ready. Without a spare it asks for the spares to
// be topped up at once; with one, the caller calls refill once its cold start has answered.
// Starting a spare forks Kiri and moves the spare into its cgroup, and on cgroup v1 a move
// makes every fork and thread creation on the host wait for an RCU grace period: the cold
// start that just took a spare would wait too. sb is the caller's sandbox; spares only exist
// when it starts instances through the init.
func (s *spareInits) claim(sb *sandbox) *spareInit {
	if s.want <= 0 || !sb.feat.Init {
		return nil
	}
	s.mu.Lock()
	s.lastUsed = time.Now()
	var sp *spareInit
	if len(s.ready) > 0 {
		// The oldest: the likeliest to have finished starting.
		sp = s.ready[0]
		s.ready = append(s.ready[:0], s.ready[1:]...)
	}
	s.mu.Unlock()
	if sp == nil {
		s.refill()
	}
	if sp != nil && s.renice {
		unix.Setpriority(unix.PRIO_PGRP, sp.cmd.Process.Pid, 0)
	}
	return sp
}

// refill asks for the spares to be topped up.
func (s *spareInits) refill() { signal(s.kick) }

// run tops the spares up after claims and stops them when unused or when the pool closes. The
// pool owns it (Pool.wg).
func (s *spareInits) run() {
	idle := time.NewTimer(s.idleAfter)
	idle.Stop()
	defer idle.Stop()
	for {
		select {
		case <-s.stopped:
			s.dropAll()
			return
		case <-idle.C:
			s.mu.Lock()
			left := s.idleAfter - time.Since(s.lastUsed)
			s.mu.Unlock()
			if left > 0 {
				idle.Reset(left)
				continue
			}
			s.dropAll()
			continue
		case <-s.kick:
		}
		s.fill()
		idle.Reset(s.idleAfter)
	}
}

// fill starts spares until want are ready or the pool closes. It waits for sandbox detection
// rather than starting it early: a warm request may come while Kiri is still starting.
func (s *spareInits) fill() {
	select {
	case <-s.detected:
	case <-s.stopped:
		return
	}
	sb := s.sandbox()
	if !sb.feat.Init {
		return // instances start without the init: spares would never be claimed
	}
	for {
		s.mu.Lock()
		n := len(s.ready)
		s.mu.Unlock()
		if n >= s.want {
			return
		}
		select {
		case <-s.stopped:
			return
		default:
		}
		flags, ports := sb.flags, []int(nil)
		if sb.spareNet {
			flags, ports = flags|unix.CLONE_NEWNET, sb.netPorts
		}
		cmd, ctrl, err := sb.launchInit(flags, nil, sb.prelude(ports))
		if err != nil {
			return // the next cold start starts fresh and asks again
		}
		if s.renice {
			// Start-up at the lowest priority, so refills do not slow the cold starts under
			// way; claim restores the normal priority. Whole group: the init's threads too.
			unix.Setpriority(unix.PRIO_PGRP, cmd.Process.Pid, spareNice)
		}
		sp := &spareInit{cmd: cmd, ctrl: ctrl, netns: sb.spareNet}
		if sb.cg != nil {
			// Without a cgroup the spare still serves; the instance then moves it itself.
			if cg, err := sb.cg.createEmpty(randomHex(16)); err == nil {
				if cg.add(cmd.Process.Pid) == nil {
					sp.cg = cg
				} else {
					cg.remove()
				}
			}
		}
		s.mu.Lock()
		s.ready = append(s.ready, sp)
		s.mu.Unlock()
	}
}

// dropAll stops every ready spare.
func (s *spareInits) dropAll() {
	s.mu.Lock()
	ready := s.ready
	s.ready = nil
	s.mu.Unlock()
	for _, sp := range ready {
		sp.stop()
	}
}
