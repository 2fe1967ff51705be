package pgtest

import "syscall"

// dieWithParent makes the server end with the test binary, even when that
// is killed or panics before Stop.
func dieWithParent(a *syscall.SysProcAttr) { a.Pdeathsig = syscall.SIGQUIT }
