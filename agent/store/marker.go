package store

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// markerText is what Options.SignedMarker holds, for whoever opens it.
const markerText = "This pact node has signed consensus messages. Its double-sign guard is in pact.db:\n" +
	"never delete pact.db alone. See docs/OPERATIONS.md, \"A damaged state file\".\n"

// markSigned creates Options.SignedMarker once a guard is durable. A
// failure is not the write's: the guard is safe in the state file; the
// marker is tried again with the next guard. Called with wmu held.
func (s *Store) markSigned() {
	if s.marked || s.opts.SignedMarker == "" {
		return
	}
	if _, err := os.Stat(s.opts.SignedMarker); err == nil {
		s.marked = true
		return
	}
	if err := writeMarker(s.opts.SignedMarker); err == nil {
		s.marked = true
	}
}

func writeMarker(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if errors.Is(err, fs.ErrExist) {
		return nil
	}
	if err != nil {
		return err
	}
	_, err = f.WriteString(markerText)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		_ = os.Remove(path)
		return err
	}
	return syncDir(filepath.Dir(path))
}
