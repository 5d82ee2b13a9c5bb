// The nats.go publisher for the throughput suite's opt-in Go comparison (BENCH_GO=1), built at
// bench time from Debian's golang-go and golang-github-nats-io-go-nats-dev (GOPATH mode, offline).
//
// It connects once, then answers each line "<payload bytes> <messages>" on stdin with one JSON
// line: the same measurement as the Node clients (publish in a loop, then Flush, which returns
// when the server's PONG arrives), with this process's CPU time over the run (all its threads).
// "<payload bytes> <messages> js" measures JetStream instead: PublishAsync with a Nats-Msg-Id per
// message and PublishAsyncMaxPending 4000 (its default), then PublishAsyncComplete, every future's
// outcome checked (the caller's part of Go's async publish).
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"syscall"
	"time"

	"github.com/nats-io/nats.go"
)

type result struct {
	Payload  int     `json:"payload"`
	Messages int     `json:"messages"`
	Ms       float64 `json:"ms"`
	CPUNs    int64   `json:"cpuNs"`
	Error    string  `json:"error,omitempty"`
}

func cpuNs() int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return -1
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}

func main() {
	if len(os.Args) < 3 {
		fmt.Fprintln(os.Stderr, "usage: publisher <url> <subject>")
		os.Exit(2)
	}
	nc, err := nats.Connect(os.Args[1], nats.Name("bench-nats.go"))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	defer nc.Close()
	subject := os.Args[2]
	out := json.NewEncoder(os.Stdout)
	in := bufio.NewScanner(os.Stdin)
	js, err := nc.JetStream(nats.PublishAsyncMaxPending(4000))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(`{"ready":true}`)
	for runs := 0; in.Scan(); runs++ {
		var size, n int
		var mode string
		if k, err := fmt.Sscan(in.Text(), &size, &n, &mode); k < 2 {
			out.Encode(result{Error: fmt.Sprint(err)})
			continue
		}
		if mode == "js" {
			out.Encode(publishAsync(js, subject, size, n, runs))
			continue
		}
		payload := make([]byte, size)
		for i := range payload {
			payload[i] = 'x'
		}
		c0 := cpuNs()
		t0 := time.Now()
		r := result{Payload: size, Messages: n}
		for i := 0; i < n && r.Error == ""; i++ {
			if err := nc.Publish(subject, payload); err != nil {
				r.Error = err.Error()
			}
		}
		if err := nc.Flush(); err != nil && r.Error == "" {
			r.Error = err.Error()
		}
		r.Ms = float64(time.Since(t0).Nanoseconds()) / 1e6
		r.CPUNs = cpuNs() - c0
		out.Encode(r)
	}
}

func publishAsync(js nats.JetStreamContext, subject string, size, n, run int) result {
	payload := make([]byte, size)
	for i := range payload {
		payload[i] = 'x'
	}
	c0 := cpuNs()
	t0 := time.Now()
	r := result{Payload: size, Messages: n}
	futures := make([]nats.PubAckFuture, 0, n)
	for i := 0; i < n; i++ {
		f, err := js.PublishAsync(subject, payload, nats.MsgId(fmt.Sprintf("go-%d-%d", run, i)))
		if err != nil {
			r.Error = err.Error()
			return r
		}
		futures = append(futures, f)
	}
	<-js.PublishAsyncComplete()
	for _, f := range futures {
		select {
		case <-f.Ok():
		case err := <-f.Err():
			if r.Error == "" {
				r.Error = err.Error()
			}
		}
	}
	r.Ms = float64(time.Since(t0).Nanoseconds()) / 1e6
	r.CPUNs = cpuNs() - c0
	return r
}
