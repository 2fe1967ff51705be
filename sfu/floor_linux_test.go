package sfu

import (
	"runtime"
	"time"

	"golang.org/x/sys/unix"
)

// pinThread keeps the calling (locked) thread on one CPU, when the machine
// has more than one.
func pinThread(cpu int) {
	if runtime.NumCPU() < 2 {
		return
	}
	var set unix.CPUSet
	set.Set(cpu)
	unix.SchedSetaffinity(0, &set) // best effort: a benchmark still runs unpinned
}

// threadCPU is the calling thread's user + system time.
func threadCPU() (time.Duration, bool) {
	var ru unix.Rusage
	if err := unix.Getrusage(unix.RUSAGE_THREAD, &ru); err != nil {
		return 0, false
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()), true
}
