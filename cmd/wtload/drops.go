package main

import (
	"bufio"
	"os"
	"strconv"
	"strings"
)

// socketDrops is the kernel's count of datagrams each UDP socket in this
// network namespace dropped because its receive buffer was full, by socket
// inode, with whether the socket is one of the load tool's.
type socketDrops struct {
	known bool
	count map[string]uint64
	own   map[string]bool
}

// Drops is where, in the measuring window, the kernel dropped packets at a
// full receive buffer: at the load tool's sockets (it fell behind) or at any
// other socket in the namespace, the server's (the server fell behind).
type Drops struct {
	Known     bool   `json:"known"`
	LoadTool  uint64 `json:"load_tool"`
	Elsewhere uint64 `json:"elsewhere"`
}

// readDrops reads /proc/net/udp and udp6; own are the load tool's ports.
func readDrops(own []int) socketDrops {
	mine := map[int]bool{}
	for _, p := range own {
		mine[p] = true
	}
	d := socketDrops{count: map[string]uint64{}, own: map[string]bool{}}
	for _, name := range []string{"/proc/net/udp", "/proc/net/udp6"} {
		f, err := os.Open(name)
		if err != nil {
			continue
		}
		d.known = true
		sc := bufio.NewScanner(f)
		sc.Scan() // header
		for sc.Scan() {
			// sl local rem st tx:rx tr:when retrnsmt uid timeout inode ref pointer drops
			fs := strings.Fields(sc.Text())
			if len(fs) < 13 {
				continue
			}
			_, portHex, ok := strings.Cut(fs[1], ":")
			port, err1 := strconv.ParseInt(portHex, 16, 32)
			drops, err2 := strconv.ParseUint(fs[len(fs)-1], 10, 64)
			if !ok || err1 != nil || err2 != nil {
				continue
			}
			inode := fs[9]
			d.count[inode] = drops
			d.own[inode] = mine[int(port)]
		}
		f.Close()
	}
	return d
}

// since is what was dropped between before and d.
func (d socketDrops) since(before socketDrops) Drops {
	out := Drops{Known: d.known && before.known}
	for inode, n := range d.count {
		n -= min(n, before.count[inode])
		if d.own[inode] {
			out.LoadTool += n
		} else {
			out.Elsewhere += n
		}
	}
	return out
}
