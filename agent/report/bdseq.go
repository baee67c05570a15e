package report

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
)

// FileBDSeq returns a NextBDSeq that keeps the counter in a small text file
// (the agent uses <data_dir>/mqtt.bdseq). A missing file starts the count at
// 0; every call writes the new value durably — temp file, fsync, rename,
// fsync of the directory — before returning it, so a number handed out is
// never handed out again after a crash. A file that does not hold a number
// is an error, not a fresh start: the caller decides.
func FileBDSeq(path string) func() (uint64, error) {
	var mu sync.Mutex
	return func() (uint64, error) {
		mu.Lock()
		defer mu.Unlock()
		next := uint64(0)
		b, err := os.ReadFile(path)
		switch {
		case errors.Is(err, os.ErrNotExist):
		case err != nil:
			return 0, fmt.Errorf("report: bdseq file: %w", err)
		default:
			last, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 64)
			if err != nil {
				return 0, fmt.Errorf("report: bdseq file %s does not hold a number (%q): remove it to start again at 0", path, strings.TrimSpace(string(b)))
			}
			next = last + 1
		}
		if err := writeFileDurable(path, []byte(strconv.FormatUint(next, 10)+"\n")); err != nil {
			return 0, fmt.Errorf("report: bdseq file: %w", err)
		}
		return next, nil
	}
}

// writeFileDurable replaces path with data so that after a crash the file
// holds either the old or the new content: temp file, fsync, rename, fsync
// of the directory.
func writeFileDurable(path string, data []byte) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	tmp := f.Name()
	defer os.Remove(tmp) // fails harmlessly once renamed
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
