package identity

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadOrCreate_CreatesOnceWithPrivateModes(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "var", "lib", "pact")
	path := filepath.Join(dir, "identity.key")

	key, created, err := LoadOrCreate(path)
	if err != nil {
		t.Fatalf("LoadOrCreate: %v", err)
	}
	if !created {
		t.Errorf("created = false for a missing file")
	}
	info, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := info.Mode().Perm(); perm != 0o600 {
		t.Errorf("key file mode = %04o, want 0600", perm)
	}
	dinfo, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if perm := dinfo.Mode().Perm(); perm != 0o700 {
		t.Errorf("new directory mode = %04o, want 0700", perm)
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("directory holds %d entries, want only the key (no temporary files left)", len(entries))
	}

	again, created, err := LoadOrCreate(path)
	if err != nil {
		t.Fatalf("second LoadOrCreate: %v", err)
	}
	if created {
		t.Errorf("created = true for an existing key")
	}
	if !bytes.Equal(key, again) {
		t.Errorf("second LoadOrCreate returned a different key: the first was overwritten")
	}
}

func TestCreate_NeverOverwrites(t *testing.T) {
	path := filepath.Join(t.TempDir(), "identity.key")
	if err := os.WriteFile(path, []byte("precious"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(path); !errors.Is(err, ErrExists) {
		t.Fatalf("Create over an existing file: err = %v, want ErrExists", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "precious" {
		t.Errorf("existing file changed to %q", got)
	}
}

func TestLoadOrCreate_RefusesBadFiles(t *testing.T) {
	ecKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalPKCS8PrivateKey(ecKey)
	if err != nil {
		t.Fatal(err)
	}
	good, err := Encode(mustKey(t))
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		data     []byte
		mode     os.FileMode
		want     error
		mentions string
	}{
		{"world readable", good, 0o644, ErrInsecure, "chmod 600"},
		{"group readable", good, 0o640, ErrInsecure, "chmod 600"},
		{"empty", nil, 0o600, ErrMalformed, "no PEM block"},
		{"garbage", []byte("not a key\n"), 0o600, ErrMalformed, "no PEM block"},
		{"wrong PEM type", pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: ecDER}), 0o600, ErrMalformed, "PKCS#8"},
		{"not ed25519", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: ecDER}), 0o600, ErrMalformed, "Ed25519"},
		{"bad DER", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: []byte{1, 2, 3}}), 0o600, ErrMalformed, "malformed"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "identity.key")
			if err := os.WriteFile(path, tt.data, tt.mode); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(path, tt.mode); err != nil { // umask may have narrowed it
				t.Fatal(err)
			}
			_, _, err := LoadOrCreate(path)
			if !errors.Is(err, tt.want) {
				t.Fatalf("err = %v, want %v", err, tt.want)
			}
			if !strings.Contains(err.Error(), tt.mentions) || !strings.Contains(err.Error(), path) {
				t.Errorf("err = %q, want it to name the file and mention %q", err, tt.mentions)
			}
			if got, _ := os.ReadFile(path); !bytes.Equal(got, tt.data) {
				t.Errorf("the refused file was modified")
			}
		})
	}
}

func TestLoad_Missing(t *testing.T) {
	_, err := Load(filepath.Join(t.TempDir(), "nope.key"))
	if !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("err = %v, want fs.ErrNotExist", err)
	}
}

func TestEncodeParse_RoundTripAndPublicKey(t *testing.T) {
	key := mustKey(t)
	data, err := Encode(key)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("-----BEGIN PRIVATE KEY-----\n")) {
		t.Errorf("encoded key does not start with a PKCS#8 PEM header:\n%s", data)
	}
	back, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(back, key) {
		t.Errorf("round trip changed the key")
	}
	pub, err := ParsePublicKey(Public(key))
	if err != nil {
		t.Fatal(err)
	}
	if !pub.Equal(key.Public()) {
		t.Errorf("ParsePublicKey(Public(key)) does not give the key's public half")
	}
	for _, bad := range []string{"", "!!!", "AAAA"} {
		if _, err := ParsePublicKey(bad); err == nil {
			t.Errorf("ParsePublicKey(%q) accepted", bad)
		}
	}
}

func mustKey(t *testing.T) ed25519.PrivateKey {
	t.Helper()
	path := filepath.Join(t.TempDir(), "k")
	key, err := Create(path)
	if err != nil {
		t.Fatal(err)
	}
	return key
}
