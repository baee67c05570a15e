package membership

import (
	"context"
	"log/slog"
	"strings"
)

// logWriter adapts memberlist's and mDNS's *log.Logger output to slog at
// debug level: they log every failed probe and refused packet, which is
// noise at info level on a fleet. Lines look like "[WARN] memberlist: text".
type logWriter struct {
	m       *Membership
	src     string
	observe bool // feed the line to observeLog (memberlist only)
}

func (w *logWriter) Write(p []byte) (int, error) {
	line := strings.TrimSpace(string(p))
	level := ""
	if strings.HasPrefix(line, "[") {
		if end := strings.IndexByte(line, ']'); end > 0 {
			level, line = line[1:end], strings.TrimSpace(line[end+1:])
		}
	}
	line = strings.TrimPrefix(line, w.src+": ")
	if w.observe {
		w.m.observeLog(line)
	}
	if w.m.log.Enabled(context.Background(), slog.LevelDebug) {
		w.m.log.Debug(line, "src", w.src, "level", level)
	}
	return len(p), nil
}
