package agent

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"strings"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/consensus"
)

// The admin server answers local questions (`pact status`) over HTTP on
// 127.0.0.1 or a unix socket. It is never meant for the network: the
// address is the operator's to choose, and the default is loopback.
type adminServer struct {
	ln  net.Listener
	srv *http.Server
}

// Admin endpoints: GET the status; POST an entry (JSON, as agreed.Entry
// encodes it) for the cluster to decide — how `pact admit` hands in an
// operator-signed admission; GET the ejections with their evidence
// (EjectionsReport) — what `pact evidence` checks and explains. GET
// AdminMetricsPath (metrics.go) serves Prometheus metrics; AdminDebugPath
// the Go runtime's profiles (net/http/pprof: heap, goroutines, CPU), for
// finding where an agent's memory or time goes on the device itself.
const (
	AdminDebugPath     = "/debug/pprof/"
	AdminPath          = "/v1/status"
	AdminEntriesPath   = "/v1/entries"
	AdminEjectionsPath = "/v1/ejections"
)

func listenAdmin(addr string) (net.Listener, error) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		_ = os.Remove(path) // a stale socket from a killed agent
		ln, err := net.Listen("unix", path)
		if err == nil {
			_ = os.Chmod(path, 0o660)
		}
		return ln, err
	}
	return net.Listen("tcp", addr)
}

func newAdminServer(addr string, a *Agent) (*adminServer, error) {
	ln, err := listenAdmin(addr)
	if err != nil {
		return nil, fmt.Errorf("admin: listen on %s: %w (is another pact agent running? change `admin` in the agent file)", addr, err)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET "+AdminPath, getJSON(func(ctx context.Context) (any, error) { return a.Status(ctx) }))
	mux.HandleFunc("POST "+AdminEntriesPath, func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(io.LimitReader(r.Body, agreed.MaxEntrySize+1))
		if err != nil || len(body) > agreed.MaxEntrySize {
			http.Error(w, "entry too large or unreadable", http.StatusBadRequest)
			return
		}
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		if err := a.Submit(ctx, consensus.Entry(body)); err != nil {
			http.Error(w, err.Error(), http.StatusUnprocessableEntity)
			return
		}
		w.WriteHeader(http.StatusAccepted)
	})
	mux.HandleFunc("GET "+AdminEjectionsPath, getJSON(func(ctx context.Context) (any, error) { return a.Ejections(ctx) }))
	mux.Handle("GET "+AdminMetricsPath, a.metrics.handler) // metrics.go
	mux.HandleFunc("GET "+AdminDebugPath, pprof.Index)
	mux.HandleFunc("GET "+AdminDebugPath+"profile", pprof.Profile)
	mux.HandleFunc("GET "+AdminDebugPath+"trace", pprof.Trace)
	return &adminServer{ln: ln, srv: &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}}, nil
}

func (s *adminServer) serve() {
	if err := s.srv.Serve(s.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		_ = err // the listener closed under us at shutdown
	}
}

func (s *adminServer) close() {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}

// AdminClient returns an HTTP client for the admin address and the base URL
// to put AdminPath, AdminEntriesPath or AdminEjectionsPath after.
func AdminClient(addr string) (*http.Client, string) {
	if path, ok := strings.CutPrefix(addr, "unix:"); ok {
		tr := &http.Transport{DialContext: func(ctx context.Context, _, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, "unix", path)
		}}
		return &http.Client{Transport: tr, Timeout: 5 * time.Second}, "http://pact"
	}
	return &http.Client{Timeout: 5 * time.Second}, "http://" + addr
}

// getJSON serves what get returns from the loop as indented JSON, or 503
// when the loop does not answer within 2 s.
func getJSON(get func(context.Context) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
		defer cancel()
		v, err := get(ctx)
		if err != nil {
			http.Error(w, "agent loop did not answer: "+err.Error(), http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(v)
	}
}
