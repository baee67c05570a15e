// Package identity owns a node's Ed25519 identity key on disk: creating it
// once, loading it, and refusing it when it is unsafe or damaged.
//
// The key file is a PEM "PRIVATE KEY" block holding PKCS#8 DER, the format
// `openssl genpkey -algorithm ed25519` writes, so operators can inspect a key
// with openssl and bring their own. The file must be readable by its owner
// only (mode 0600): a key that others can read is no identity at all, so Load
// refuses it rather than fixing the mode silently.
//
// A key is never overwritten. Losing it means the node's name is bound to a
// key nobody holds any more, which only an operator can repair; replacing it
// silently would hide that. Create publishes a new key with a hard link, which
// fails if the file appeared meanwhile, so two processes racing to create the
// same identity cannot both win.
//
// The package is separate from agent/config so that the commands that only
// handle keys (testnet, request, config keygen) and the agent's storage do
// not pull in the YAML layer, and so that the config layer can parse public
// keys the same way the agent does.
package identity

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// Errors that Load, Create and LoadOrCreate report, wrapped with the file
// name and what to do; compare with errors.Is.
var (
	// ErrExists: Create found a file where it was asked to put a new key.
	ErrExists = errors.New("identity key already exists")
	// ErrInsecure: the key file can be read or written by group or others.
	ErrInsecure = errors.New("identity key file is accessible to other users")
	// ErrMalformed: the file is not a PEM PKCS#8 Ed25519 private key.
	ErrMalformed = errors.New("identity key file is malformed")
)

const (
	pemType  = "PRIVATE KEY"
	fileMode = 0o600
	dirMode  = 0o700
)

// LoadOrCreate returns the key at path, creating it (and its directories,
// mode 0700) when the file does not exist. created reports whether this call
// made it. An existing file that is malformed or readable by others is an
// error: it is never replaced.
func LoadOrCreate(path string) (key ed25519.PrivateKey, created bool, err error) {
	key, err = Load(path)
	if err == nil {
		return key, false, nil
	}
	if !errors.Is(err, fs.ErrNotExist) {
		return nil, false, err
	}
	key, err = Create(path)
	if errors.Is(err, ErrExists) {
		// Another process created it between our Load and Create: use theirs.
		key, err = Load(path)
		return key, false, err
	}
	if err != nil {
		return nil, false, err
	}
	return key, true, nil
}

// Load reads the key at path. It refuses a file that group or others may
// access, and a file that does not hold an Ed25519 PKCS#8 PEM key. A missing
// file is reported as an error satisfying errors.Is(err, fs.ErrNotExist).
func Load(path string) (ed25519.PrivateKey, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("identity key: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("stat identity key %s: %w", path, err)
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("%w: %s is not a regular file", ErrMalformed, path)
	}
	if perm := info.Mode().Perm(); perm&0o077 != 0 {
		return nil, fmt.Errorf("%w: %s has mode %04o; run: chmod 600 %s", ErrInsecure, path, perm, path)
	}
	// A PEM Ed25519 key is about 120 bytes; the limit only stops a wrong
	// path from reading a huge file.
	data, err := io.ReadAll(io.LimitReader(f, 64<<10))
	if err != nil {
		return nil, fmt.Errorf("read identity key %s: %w", path, err)
	}
	key, err := Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return key, nil
}

// Create generates a new key and writes it to path with mode 0600, creating
// missing directories with mode 0700. The write is atomic and durable: a
// temporary file in the same directory is written and fsynced, linked into
// place (which fails if path exists), and the directory is fsynced. It
// returns ErrExists if path already exists.
func Create(path string) (ed25519.PrivateKey, error) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("generate identity key: %w", err)
	}
	if err := Save(path, key); err != nil {
		return nil, err
	}
	return key, nil
}

// Save writes an existing key to path the way Create does: mode 0600,
// atomically, durably, and only if path does not exist (ErrExists). Tools
// that must know public keys before writing files (pact testnet) generate
// keys first and save them afterwards.
func Save(path string, key ed25519.PrivateKey) error {
	data, err := Encode(key)
	if err != nil {
		return err
	}
	return writeNew(path, data)
}

// Encode returns key as a PEM "PRIVATE KEY" block of PKCS#8 DER.
func Encode(key ed25519.PrivateKey) ([]byte, error) {
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, fmt.Errorf("encode identity key: %w", err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: pemType, Bytes: der}), nil
}

// Parse decodes a PEM "PRIVATE KEY" block holding an Ed25519 PKCS#8 key.
// Anything after the first PEM block is ignored, as openssl does.
func Parse(data []byte) (ed25519.PrivateKey, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, fmt.Errorf("%w: no PEM block; expected -----BEGIN %s-----", ErrMalformed, pemType)
	}
	if block.Type != pemType {
		return nil, fmt.Errorf("%w: PEM block is %q, want %q (PKCS#8)", ErrMalformed, block.Type, pemType)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	key, ok := parsed.(ed25519.PrivateKey)
	if !ok {
		return nil, fmt.Errorf("%w: key is %T, want an Ed25519 key", ErrMalformed, parsed)
	}
	return key, nil
}

// PublicKeyString is the form public keys take in the cluster file: standard
// base64 of the 32-byte Ed25519 key.
func PublicKeyString(pub ed25519.PublicKey) string {
	return base64.StdEncoding.EncodeToString(pub)
}

// Public returns the public half of key in the cluster file's form.
func Public(key ed25519.PrivateKey) string {
	return PublicKeyString(key.Public().(ed25519.PublicKey))
}

// ParsePublicKey decodes a public key written by PublicKeyString.
func ParsePublicKey(s string) (ed25519.PublicKey, error) {
	b, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, fmt.Errorf("not base64: %w", err)
	}
	if len(b) != ed25519.PublicKeySize {
		return nil, fmt.Errorf("decodes to %d bytes, an Ed25519 public key has %d", len(b), ed25519.PublicKeySize)
	}
	return ed25519.PublicKey(b), nil
}

// writeNew puts data at path only if nothing is there, atomically and
// durably. The temporary file is linked rather than renamed into place
// because rename replaces an existing file and link does not.
func writeNew(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, dirMode); err != nil {
		return fmt.Errorf("create directory for identity key: %w", err)
	}
	if _, err := os.Lstat(path); err == nil {
		return fmt.Errorf("%w: %s", ErrExists, path)
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create identity key: %w", err)
	}
	tmpName := tmp.Name()
	defer func() {
		if tmp != nil {
			tmp.Close()
		}
		os.Remove(tmpName)
	}()
	// CreateTemp already uses 0600; Chmod makes it independent of that detail.
	if err := tmp.Chmod(fileMode); err != nil {
		return fmt.Errorf("create identity key: %w", err)
	}
	if _, err := tmp.Write(data); err != nil {
		return fmt.Errorf("write identity key: %w", err)
	}
	if err := tmp.Sync(); err != nil {
		return fmt.Errorf("fsync identity key: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write identity key: %w", err)
	}
	tmp = nil
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w: %s", ErrExists, path)
		}
		// Some file systems (FAT on a boot partition) have no hard links:
		// fall back to rename after checking again that nothing is there.
		if _, statErr := os.Lstat(path); statErr == nil {
			return fmt.Errorf("%w: %s", ErrExists, path)
		}
		if err := os.Rename(tmpName, path); err != nil {
			return fmt.Errorf("install identity key: %w", err)
		}
	}
	return syncDir(dir)
}

// syncDir makes a new directory entry durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("fsync directory %s: %w", dir, err)
	}
	return nil
}
