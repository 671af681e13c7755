// Conformance adapter for go-qemu's qmp package (github.com/digitalocean/go-qemu/qmp,
// Debian's golang-github-digitalocean-go-qemu-dev).
//
//	adapter [--timeout SEC] [--linger MS] SOCKET SCRIPT
//
// It implements the adapter contract of qmpkit's docs/notes/trace-and-adapter.md §2
// (script lines in, JSON lines out) with the library's public API only, the way an
// application would use it:
//
//	mon, _ := qmp.NewSocketMonitor("unix", SOCKET, timeout)
//	mon.Connect()                  // greeting + qmp_capabilities
//	events, _ := mon.Events(ctx)   // unbuffered channel of qmp.Event
//	out, err := mon.Run(cmd)       // one command, serialized, waits for "its" reply
//	mon.Disconnect()
//
// What the library does not hand to its user cannot be printed: the adapter never
// reads the socket itself.  So (see docs/notes/adapter-go-qemu.md):
//   - the greeting record is rebuilt from mon.Version and mon.Capabilities;
//   - qmp_capabilities' reply is not returned by Connect: a successful Connect
//     is printed as {"return": {}};
//   - an error reply reaches the user as a Go error holding only the "desc"
//     string: it is printed as {"error": {"desc": DESC}} (class and id are lost);
//   - an event reaches the user as a qmp.Event (event, data, timestamp): it is
//     printed re-serialized from that struct;
//   - a successful reply is the raw line Run returns, printed as is;
//   - "unmatched", "invalid" and "parse-error" records never appear: the library
//     gives the next non-event line to the pending Run and drops lines that are
//     not JSON objects without telling anyone;
//   - "&" commands are handed to a goroutine that calls Run in script order
//     without the script waiting; Run is serialized by the library (a mutex and a
//     single response stream), so the next command is written only once the
//     previous one got a reply: go-qemu cannot pipeline;
//   - ".caps LIST" cannot be expressed (Connect sends qmp_capabilities without
//     "enable"): it is reported as a client-error;
//   - ".raw" cannot be expressed (Run always waits for and consumes a reply):
//     it is reported as a client-error.
//
// Exit status: 0 every command answered (error replies included); 1 timeout,
// early close, failed negotiation, an error from the library that is not a QMP
// error reply, or an unsupported script line; 2 usage or connection error.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/digitalocean/go-qemu/qmp"
)

// record is one output line; field order is the contract's.
type record struct {
	Type    string          `json:"type"`
	Seq     *int            `json:"seq,omitempty"`
	Command string          `json:"command,omitempty"`
	Event   string          `json:"event,omitempty"`
	ID      json.RawMessage `json:"id,omitempty"`
	Error   string          `json:"error,omitempty"`
	Msg     json.RawMessage `json:"msg,omitempty"`
}

func marshal(v interface{}) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

func emit(r record) {
	b, err := marshal(r)
	if err != nil {
		// Only a Msg that is not valid JSON can fail here.
		b, _ = marshal(record{Type: "client-error",
			Error: fmt.Sprintf("go-qemu handed over a %s message that is not valid JSON (%v): %q",
				r.Type, err, string(r.Msg))})
	}
	os.Stdout.Write(b)
}

// A command of the script, as queued for the Run goroutine.
type command struct {
	seq  int
	name string
	id   json.RawMessage // nil: the command has no id
	wire []byte
}

type result struct {
	cmd *command
	out []byte
	err error
}

type adapter struct {
	mon      *qmp.SocketMonitor
	events   <-chan qmp.Event
	queue    chan *command
	results  chan result
	sent     int // commands queued
	answered int // results handled
	seen     map[string]int
	waited   map[string]int
	timeout  time.Duration
	closed   bool // Disconnect called
}

func main() {
	timeout := 30 * time.Second
	linger := 0
	args := os.Args[1:]
	for len(args) > 2 && strings.HasPrefix(args[0], "--") {
		if len(args) < 4 {
			usage()
		}
		switch args[0] {
		case "--timeout":
			s, err := strconv.ParseFloat(args[1], 64)
			if err != nil || s <= 0 {
				usage()
			}
			timeout = time.Duration(s * float64(time.Second))
		case "--linger":
			ms, err := strconv.Atoi(args[1])
			if err != nil || ms < 0 {
				usage()
			}
			linger = ms
		default:
			usage()
		}
		args = args[2:]
	}
	if len(args) != 2 {
		usage()
	}
	script, err := os.ReadFile(args[1])
	if err != nil {
		fmt.Fprintf(os.Stderr, "adapter: %v\n", err)
		os.Exit(2)
	}

	mon, err := qmp.NewSocketMonitor("unix", args[0], timeout)
	if err != nil {
		emit(record{Type: "client-error", Error: "connect: " + err.Error()})
		os.Exit(2)
	}
	a := &adapter{mon: mon, timeout: timeout,
		queue: make(chan *command, 4096), results: make(chan result, 4096),
		seen: map[string]int{}, waited: map[string]int{}}

	// The library drops events while nobody has called Events (its listener
	// count is 0), and Events only returns the channel that Connect creates:
	// register once before Connect so that no event after the negotiation is
	// dropped, take the channel after it.
	mon.Events(context.Background())
	connected := make(chan error, 1)
	go func() { connected <- mon.Connect() }()
	select {
	case err = <-connected:
	case <-time.After(timeout):
		emit(record{Type: "client-error",
			Error: fmt.Sprintf("timeout: Connect did not return within %v", timeout)})
		os.Exit(1)
	}
	if mon.Version != nil {
		greeting := map[string]interface{}{"QMP": map[string]interface{}{
			"version": mon.Version, "capabilities": mon.Capabilities}}
		msg, _ := marshal(greeting)
		emit(record{Type: "greeting", Msg: msg})
	}
	zero := 0
	if err != nil {
		if isQMPError(err) {
			emit(record{Type: "error", Seq: &zero, Command: "qmp_capabilities",
				Msg: errorMsg(err)})
		}
		emit(record{Type: "client-error", Error: "negotiation failed: " + err.Error()})
		// Not mon.Disconnect(): after a failed Connect it blocks forever (it
		// ranges over the response channel, which only Connect's success
		// creates).  Exiting closes the socket.
		os.Exit(1)
	}
	emit(record{Type: "return", Seq: &zero, Command: "qmp_capabilities",
		Msg: json.RawMessage(`{"return": {}}`)})
	a.events, _ = mon.Events(context.Background())

	go a.runner()
	a.script(script)
	// End of script: every reply, then the linger for events.
	a.waitUntil(func() bool { return a.answered == a.sent }, "the replies of the script's commands")
	if linger > 0 {
		a.sleep(time.Duration(linger) * time.Millisecond)
	}
	a.disconnect()
	os.Exit(0)
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: adapter [--timeout SEC] [--linger MS] SOCKET SCRIPT")
	os.Exit(2)
}

// runner issues the queued commands in script order, one Run at a time.
func (a *adapter) runner() {
	for c := range a.queue {
		out, err := a.mon.Run(c.wire)
		if out != nil {
			// Run's slice may alias the library's scanner buffer: copy at once.
			out = append([]byte(nil), out...)
		}
		a.results <- result{c, out, err}
	}
}

func (a *adapter) script(text []byte) {
	seq := 0
	for _, line := range strings.Split(string(text), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, ".") {
			a.directive(line)
			continue
		}
		async := strings.HasPrefix(line, "&")
		if async {
			line = strings.TrimSpace(line[1:])
		}
		seq++
		c, err := parseCommand(seq, line)
		if err != nil {
			a.fail(fmt.Sprintf("bad script line %q: %v", line, err))
		}
		if a.closed {
			a.fail(fmt.Sprintf("%s (seq %d) after .close: the monitor is disconnected", c.name, seq))
		}
		a.queue <- c
		a.sent++
		if !async {
			a.waitUntil(func() bool { return a.answered == a.sent },
				fmt.Sprintf("the reply to %s (seq %d)", c.name, seq))
		}
	}
}

func (a *adapter) directive(line string) {
	f := strings.Fields(line)
	switch {
	case f[0] == ".wait" && len(f) == 1:
		a.waitUntil(func() bool { return a.answered == a.sent }, "the replies of pending commands")
	case f[0] == ".wait-event" && len(f) == 2:
		name := f[1]
		a.waitUntil(func() bool { return a.seen[name] > a.waited[name] }, "event "+name)
		a.waited[name]++
	case f[0] == ".sleep" && len(f) == 2:
		ms, err := strconv.Atoi(f[1])
		if err != nil || ms < 0 {
			a.fail(fmt.Sprintf("bad script line %q", line))
		}
		a.sleep(time.Duration(ms) * time.Millisecond)
	case f[0] == ".close" && len(f) == 1:
		a.disconnect()
	case f[0] == ".caps":
		a.fail("unsupported script line " + strconv.Quote(line) +
			": go-qemu's Connect sends qmp_capabilities without arguments; it cannot enable capabilities")
	case f[0] == ".raw":
		a.fail("unsupported script line " + strconv.Quote(line) +
			": go-qemu can only write through Run, which always waits for and consumes a reply")
	default:
		a.fail(fmt.Sprintf("bad script line %q", line))
	}
}

// parseCommand turns a raw JSON line or "NAME key=value ..." into the bytes Run gets.
func parseCommand(seq int, line string) (*command, error) {
	c := &command{seq: seq}
	if strings.HasPrefix(line, "{") {
		var obj map[string]json.RawMessage
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			return nil, err
		}
		for _, k := range []string{"execute", "exec-oob"} {
			if v, ok := obj[k]; ok {
				json.Unmarshal(v, &c.name)
				break
			}
		}
		if id, ok := obj["id"]; ok {
			var b bytes.Buffer
			json.Compact(&b, id)
			c.id = b.Bytes()
		}
		// Raw JSON is sent exactly as written, plus LF.
		c.wire = []byte(line + "\n")
		return c, nil
	}
	// NAME key=value ...: what an application writes with qmp.Command.
	f := strings.Fields(line)
	c.name = f[0]
	cmd := qmp.Command{Execute: f[0]}
	if len(f) > 1 {
		args := map[string]interface{}{}
		for _, kv := range f[1:] {
			i := strings.IndexByte(kv, '=')
			if i <= 0 {
				return nil, fmt.Errorf("%q is not key=value", kv)
			}
			k, v := kv[:i], kv[i+1:]
			if json.Valid([]byte(v)) {
				args[k] = json.RawMessage(v)
			} else {
				args[k] = v
			}
		}
		cmd.Args = args
	}
	wire, err := json.Marshal(cmd)
	if err != nil {
		return nil, err
	}
	c.wire = wire
	return c, nil
}

// waitUntil prints events and results as they come until cond holds.
func (a *adapter) waitUntil(cond func() bool, what string) {
	deadline := time.NewTimer(a.timeout)
	defer deadline.Stop()
	for !cond() {
		select {
		case e, ok := <-a.events:
			if !ok {
				a.events = nil // the library's listener ended (connection lost)
				if a.answered == a.sent {
					a.fail("the connection ended while waiting for " + what)
				}
				continue // a pending Run returns its own error
			}
			a.event(e)
		case r := <-a.results:
			a.result(r)
		case <-deadline.C:
			a.fail(fmt.Sprintf("timeout: no %s within %v", what, a.timeout))
		}
	}
}

func (a *adapter) sleep(d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	for {
		select {
		case e, ok := <-a.events:
			if !ok {
				a.events = nil
				continue
			}
			a.event(e)
		case r := <-a.results:
			a.result(r)
		case <-t.C:
			return
		}
	}
}

func (a *adapter) event(e qmp.Event) {
	// Printed at once.  An event taken here was read by the library after
	// every reply Run has already taken and before any reply still to come:
	// the library's listener blocks on the unbuffered event channel until we
	// take the event.  A reply read just before the event may still be inside
	// Run (not yet returned): that order the library does not let a user see
	// (docs/notes/adapter-go-qemu.md, Limitations).
	a.seen[e.Event]++
	m := map[string]interface{}{"event": e.Event, "timestamp": e.Timestamp}
	if e.Data != nil {
		m["data"] = e.Data
	}
	msg, err := marshal(m)
	if err != nil {
		a.fail("cannot re-serialize event: " + err.Error())
	}
	emit(record{Type: "event", Event: e.Event, Msg: msg})
}

func (a *adapter) result(r result) {
	a.answered++
	seq := r.cmd.seq
	switch {
	case r.err == nil:
		emit(record{Type: "return", Seq: &seq, Command: r.cmd.name, ID: r.cmd.id,
			Msg: json.RawMessage(bytes.TrimSpace(r.out))})
	case isQMPError(r.err):
		emit(record{Type: "error", Seq: &seq, Command: r.cmd.name, ID: r.cmd.id,
			Msg: errorMsg(r.err)})
	default:
		a.fail(fmt.Sprintf("%s (seq %d): %v", r.cmd.name, seq, r.err))
	}
}

// isQMPError tells an error reply (Run and Connect return errors.New(desc))
// from the library's other errors (I/O, JSON decoding, scanner limits).
func isQMPError(err error) bool {
	switch err {
	case io.EOF, io.ErrUnexpectedEOF, bufio.ErrTooLong, bufio.ErrNegativeAdvance,
		bufio.ErrAdvanceTooFar, bufio.ErrFinalToken:
		return false
	}
	return reflect.TypeOf(err) == reflect.TypeOf(errors.New(""))
}

// errorMsg is all of an error reply that the library hands over: its desc.
func errorMsg(err error) json.RawMessage {
	msg, _ := marshal(map[string]interface{}{"error": map[string]string{"desc": err.Error()}})
	return msg
}

// disconnect calls mon.Disconnect and keeps taking events meanwhile (the
// library's listener may be blocked handing one over; Disconnect waits for it).
func (a *adapter) disconnect() {
	if a.closed {
		return
	}
	a.closed = true
	done := make(chan error, 1)
	go func() { done <- a.mon.Disconnect() }()
	t := time.NewTimer(a.timeout)
	defer t.Stop()
	for {
		select {
		case <-done:
			return
		case _, ok := <-a.events:
			if !ok {
				a.events = nil
			}
		case <-t.C:
			emit(record{Type: "client-error", Error: "timeout: Disconnect did not return"})
			os.Exit(1)
		}
	}
}

func (a *adapter) fail(why string) {
	emit(record{Type: "client-error", Error: why})
	a.disconnect()
	os.Exit(1)
}
