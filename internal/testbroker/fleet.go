package testbroker

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
)

// fleetFile is the shipped broker configuration, relative to the
// repository's root.
const fleetFile = "configs/mosquitto.conf"

// replaced are the settings of the shipped file that name the machine's own
// listener, paths and logging, which a test broker sets for itself.
var replaced = map[string]bool{
	"listener":             true,
	"persistence_location": true,
	"pid_file":             true,
	"log_dest":             true,
	"include_dir":          true,
	"user":                 true,
}

// fleetConfig is configs/mosquitto.conf for a broker listening on host:port
// with its files in dir; persistence false turns the file's persistence off.
func fleetConfig(host string, port int, dir string, persistence bool) ([]byte, error) {
	root, err := repoRoot()
	if err != nil {
		return nil, err
	}
	src, err := os.ReadFile(filepath.Join(root, fleetFile))
	if err != nil {
		return nil, err
	}
	// Without it mosquitto drops QoS 1 messages past 1,000 queued for a
	// subscriber, and the tests of delivery would measure the default.
	if !bytes.Contains(src, []byte("\nmax_queued_messages ")) {
		return nil, fmt.Errorf("%s no longer sets max_queued_messages", fleetFile)
	}
	var out bytes.Buffer
	sc := bufio.NewScanner(bytes.NewReader(src))
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) > 0 && (replaced[f[0]] || (!persistence && f[0] == "persistence")) {
			continue
		}
		out.WriteString(sc.Text() + "\n")
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("%s: %w", fleetFile, err)
	}
	fmt.Fprintf(&out, "listener %d %s\npersistence_location %s/\nlog_dest file %s\n", port, host, dir, filepath.Join(dir, LogName))
	if !persistence {
		out.WriteString("persistence false\n")
	}
	if os.Geteuid() == 0 {
		out.WriteString("user root\n") // as root, mosquitto would become "mosquitto", who cannot write dir
	}
	return out.Bytes(), nil
}

// repoRoot is the directory holding go.mod at or above the working
// directory, which go test sets to the package's own.
func repoRoot() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for dir := wd; ; dir = filepath.Dir(dir) {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		if filepath.Dir(dir) == dir {
			return "", fmt.Errorf("no go.mod at or above %s: %s cannot be found", wd, fleetFile)
		}
	}
}
