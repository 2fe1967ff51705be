//go:build !linux

package sfu

import "time"

func pinThread(int) {}

func threadCPU() (time.Duration, bool) { return 0, false }
