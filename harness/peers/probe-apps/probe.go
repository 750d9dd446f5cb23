// fcgispec probe app, contract version 1, in Go on the standard library's net/http/fcgi.
// The contract is reference/probe/README.md; the reference app and this file answer alike, except:
//
//   - stderr: net/http/fcgi has no way to write FCGI_STDERR, so the answer is 501 with the body
//     "not implemented\n" (as PHP answers echo-data).
//   - echo-data: only the Responder role is served (Go ends other roles with FCGI_UNKNOWN_ROLE and drops
//     FCGI_DATA), so the answer is 501 "not implemented\n".
//   - PROBE_EXIT is checked (400 when malformed) but cannot set appStatus: Go always sends 0.
//   - Params: net/http consumes HTTP_* and the CGI variables it maps into the request (CONTENT_LENGTH,
//     CONTENT_TYPE, HTTPS, PATH_INFO, QUERY_STRING, REMOTE_ADDR, REMOTE_HOST, REMOTE_PORT,
//     REQUEST_METHOD, REQUEST_URI, SCRIPT_NAME, SERVER_PROTOCOL); echo-param and echo-params see only
//     the others (fcgi.ProcessEnv). net/http also needs REQUEST_METHOD and a valid SERVER_PROTOCOL, or it
//     answers 500 itself.
//   - status 304: net/http/fcgi drops the Content-Type header; the reason phrase is Go's own.
//
// Built at set-up by harness/peers/go-fcgi.ts (`go build`), standard library only. Usage:
// probe-go tcp:127.0.0.1:PORT | unix:PATH
package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/fcgi"
	"os"
	"os/signal"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"syscall"
	"time"
)

const contractVersion = 1

func answer(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/octet-stream")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

// number reads a decimal param of 1..digits digits, at most max: ok=false when malformed; present=false when absent.
func number(env map[string]string, name string, digits int, max uint64) (value uint64, present bool, ok bool) {
	raw, present := env[name]
	if !present {
		return 0, false, true
	}
	if len(raw) < 1 || len(raw) > digits || !digitsPattern.MatchString(raw) {
		return 0, true, false
	}
	v, err := strconv.ParseUint(raw, 10, 64)
	if err != nil || v > max {
		return 0, true, false
	}
	return v, true, true
}

var (
	digitsPattern = regexp.MustCompile(`^[0-9]+$`)
	statusPattern = regexp.MustCompile(`^[1-5][0-9][0-9]$`)
)

func probe(w http.ResponseWriter, r *http.Request) {
	env := fcgi.ProcessEnv(r)
	// Input before output: the whole FCGI_STDIN is read first.
	stdin, err := io.ReadAll(r.Body)
	if err != nil {
		answer(w, 500, "cannot read stdin\n")
		return
	}
	if _, _, ok := number(env, "PROBE_EXIT", 10, 4294967295); !ok {
		answer(w, 400, "bad PROBE_EXIT\n")
		return
	}
	action, given := env["PROBE_ACTION"]
	if !given {
		action = "echo-stdin"
	}
	switch action {
	case "echo-stdin":
		answer(w, 200, string(stdin))
	case "echo-data", "stderr":
		answer(w, 501, "not implemented\n")
	case "echo-param":
		name, ok := env["PROBE_NAME"]
		if !ok {
			answer(w, 400, "bad PROBE_NAME\n")
		} else if value, ok := env[name]; !ok {
			answer(w, 404, "no such param\n")
		} else {
			answer(w, 200, value)
		}
	case "echo-params":
		prefix := env["PROBE_PREFIX"]
		names := make([]string, 0, len(env))
		for name := range env {
			if strings.HasPrefix(name, prefix) {
				names = append(names, name)
			}
		}
		sort.Strings(names) // Go strings compare bytewise
		var b strings.Builder
		for _, name := range names {
			b.WriteString(name + "=" + env[name] + "\n")
		}
		answer(w, 200, b.String())
	case "bulk":
		size, present, ok := number(env, "PROBE_SIZE", 10, 1<<30)
		if !present || !ok {
			answer(w, 400, "bad PROBE_SIZE\n")
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		w.WriteHeader(200)
		block := []byte(strings.Repeat("0123456789", 6552))
		for left := size; left > 0; {
			n := uint64(len(block))
			if left < n {
				n = left
			}
			if _, err := w.Write(block[:n]); err != nil {
				return
			}
			left -= n
		}
	case "sleep":
		ms, present, ok := number(env, "PROBE_MS", 6, 600000)
		if !present || !ok {
			answer(w, 400, "bad PROBE_MS\n")
			return
		}
		select {
		case <-time.After(time.Duration(ms) * time.Millisecond):
		case <-r.Context().Done():
		}
		answer(w, 200, "slept\n")
	case "status":
		s := env["PROBE_STATUS"]
		if !statusPattern.MatchString(s) {
			answer(w, 400, "bad PROBE_STATUS\n")
			return
		}
		code, _ := strconv.Atoi(s)
		// net/http/fcgi writes its own reason phrase (http.StatusText), not "Probe": the contract leaves it free.
		answer(w, code, "status\n")
	default:
		answer(w, 400, "unknown action\n")
	}
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintf(os.Stderr, "usage: %s tcp:HOST:PORT | unix:PATH (probe contract %d)\n", os.Args[0], contractVersion)
		os.Exit(2)
	}
	where := os.Args[1]
	var l net.Listener
	var err error
	switch {
	case strings.HasPrefix(where, "tcp:"):
		l, err = net.Listen("tcp", strings.TrimPrefix(where, "tcp:"))
	case strings.HasPrefix(where, "unix:"):
		path := strings.TrimPrefix(where, "unix:")
		l, err = net.Listen("unix", path)
		if err == nil {
			err = os.Chmod(path, 0o666)
		}
	default:
		err = fmt.Errorf("cannot listen on %q", where)
	}
	if err != nil {
		if errors.Is(err, syscall.EADDRINUSE) {
			// The launcher retries on another port when it reads the errno name.
			fmt.Fprintln(os.Stderr, "probe: EADDRINUSE:", err)
		} else {
			fmt.Fprintln(os.Stderr, "probe:", err)
		}
		os.Exit(1)
	}
	stop := make(chan os.Signal, 1)
	signal.Notify(stop, syscall.SIGTERM, syscall.SIGINT)
	go func() {
		<-stop
		l.Close() // also removes a Unix socket's path
		os.Exit(0)
	}()
	if err := fcgi.Serve(l, http.HandlerFunc(probe)); err != nil {
		fmt.Fprintln(os.Stderr, "probe:", err)
	}
}
