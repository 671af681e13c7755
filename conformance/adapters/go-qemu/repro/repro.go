package main

import (
	"bufio"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/digitalocean/go-qemu/qmp"
)

const greeting = `{"QMP": {"version": {"qemu": {"micro": 0, "minor": 2, "major": 7}, "package": ""}, "capabilities": ["oob"]}}` + "\r\n"

// peer: a fake QEMU on a unix socket running fn with the connection.
func peer(fn func(c net.Conn, r *bufio.Reader)) string {
	dir, _ := os.MkdirTemp("", "goq")
	path := filepath.Join(dir, "s")
	l, err := net.Listen("unix", path)
	if err != nil {
		panic(err)
	}
	go func() {
		c, _ := l.Accept()
		fn(c, bufio.NewReader(c))
	}()
	return path
}

func main() {
	// A: Disconnect after a failed Connect.
	p := peer(func(c net.Conn, r *bufio.Reader) {
		c.Write([]byte(greeting))
		r.ReadString('\n')
		c.Write([]byte(`{"error": {"class": "GenericError", "desc": "Capability oob not available"}}` + "\r\n"))
		time.Sleep(10 * time.Second)
	})
	mon, _ := qmp.NewSocketMonitor("unix", p, time.Second)
	fmt.Printf("A: Connect: %v\n", mon.Connect())
	done := make(chan struct{})
	go func() { mon.Disconnect(); close(done) }()
	select {
	case <-done:
		fmt.Println("A: Disconnect returned")
	case <-time.After(2 * time.Second):
		fmt.Println("A: Disconnect still blocked after 2 s")
	}

	// B: the bytes Run returns are overwritten by later traffic.
	p = peer(func(c net.Conn, r *bufio.Reader) {
		c.Write([]byte(greeting))
		r.ReadString('\n')
		c.Write([]byte(`{"return": {}}` + "\r\n"))
		r.ReadString('\n')
		c.Write([]byte(`{"return": {"status": "running", "running": true}}` + "\r\n"))
		time.Sleep(200 * time.Millisecond)
		ev := `{"event": "X", "data": {"pad": "` + strings.Repeat("p", 100) + `"}, "timestamp": {"seconds": 1, "microseconds": 2}}` + "\r\n"
		c.Write([]byte(strings.Repeat(ev, 60)))
		time.Sleep(10 * time.Second)
	})
	mon, _ = qmp.NewSocketMonitor("unix", p, time.Second)
	if err := mon.Connect(); err != nil {
		panic(err)
	}
	events, _ := mon.Events(nil)
	out, err := mon.Run([]byte(`{"execute": "query-status"}` + "\n"))
	before := string(out)
	n := 0
	for range events {
		n++
		if n == 60 {
			break
		}
	}
	fmt.Printf("B: Run returned %q (err %v)\nB: after 60 events the same slice holds %q\n", before, err, string(out))

	// C: an id that is not a string.
	p = peer(func(c net.Conn, r *bufio.Reader) {
		c.Write([]byte(greeting))
		r.ReadString('\n')
		c.Write([]byte(`{"return": {}}` + "\r\n"))
		r.ReadString('\n')
		c.Write([]byte(`{"return": {}, "id": 1}` + "\r\n"))
		time.Sleep(10 * time.Second)
	})
	mon, _ = qmp.NewSocketMonitor("unix", p, time.Second)
	mon.Connect()
	out, err = mon.Run([]byte(`{"execute": "query-status", "id": 1}` + "\n"))
	fmt.Printf("C: Run returned %q, err %v\n", out, err)
}
