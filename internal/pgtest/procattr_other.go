//go:build !linux

package pgtest

import "syscall"

// dieWithParent does nothing here: only Linux ties a child's life to its
// parent's; Stop ends the server.
func dieWithParent(*syscall.SysProcAttr) {}
