package report

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// A broker that wants TLS, a client certificate and a password: the
// reporter connects with the agent file's settings and is born.
func TestReporter_TLSClientCertAndPassword(t *testing.T) {
	passwd, err := exec.LookPath("mosquitto_passwd")
	if err != nil {
		t.Skip("mosquitto_passwd not installed (it comes with mosquitto)")
	}
	pki := t.TempDir()
	writeTestPKI(t, pki)
	pwFile := filepath.Join(pki, "passwd")
	if out, err := exec.Command(passwd, "-c", "-b", pwFile, "pact-gh-1", "s3cret").CombinedOutput(); err != nil {
		t.Fatalf("mosquitto_passwd: %v: %s", err, out)
	}
	if err := os.Chmod(pwFile, 0o600); err != nil {
		t.Fatal(err)
	}
	b := startBrokerWith(t, func(port int, dir string) ([]byte, error) {
		conf := fmt.Sprintf(`listener %d 127.0.0.1
cafile %s
certfile %s
keyfile %s
require_certificate true
password_file %s
allow_anonymous false
log_dest file %s
`, port, filepath.Join(pki, "ca.pem"), filepath.Join(pki, "server.pem"), filepath.Join(pki, "server.key"), pwFile, filepath.Join(dir, "mosquitto.log"))
		if os.Geteuid() == 0 {
			conf += "user root\n"
		}
		return []byte(conf), nil
	})
	secret := filepath.Join(pki, "mqtt.password")
	if err := os.WriteFile(secret, []byte("s3cret\n"), 0o600); err != nil {
		t.Fatal(err)
	}

	cfg := testConfig(t, "ssl://"+b.Addr())
	cfg.Username, cfg.PasswordFile = "pact-gh-1", secret
	cfg.TLS.CAFile = filepath.Join(pki, "ca.pem")
	cfg.TLS.CertFile, cfg.TLS.KeyFile = filepath.Join(pki, "client.pem"), filepath.Join(pki, "client.key")
	r := newReporter(t, cfg)
	waitStats(t, r, 10*time.Second, "a birth over TLS", func(s Stats) bool { return s.Connects == 1 && s.Published >= 1 })
}

// writeTestPKI writes a CA, a server certificate for 127.0.0.1 and a client
// certificate, each with its key, as PEM files in dir.
func writeTestPKI(t *testing.T, dir string) {
	t.Helper()
	newKey := func() *ecdsa.PrivateKey {
		k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		return k
	}
	write := func(name, kind string, der []byte) {
		if err := os.WriteFile(filepath.Join(dir, name), pem.EncodeToMemory(&pem.Block{Type: kind, Bytes: der}), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	writeKey := func(name string, k *ecdsa.PrivateKey) {
		der, err := x509.MarshalECPrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		write(name, "EC PRIVATE KEY", der)
	}
	now := time.Now()
	caKey := newKey()
	ca := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "pact test CA"},
		NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
		IsCA: true, BasicConstraintsValid: true, KeyUsage: x509.KeyUsageCertSign,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, ca, ca, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	write("ca.pem", "CERTIFICATE", caDER)
	for i, leaf := range []struct {
		name  string
		usage x509.ExtKeyUsage
	}{{"server", x509.ExtKeyUsageServerAuth}, {"client", x509.ExtKeyUsageClientAuth}} {
		k := newKey()
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(int64(i + 2)), Subject: pkix.Name{CommonName: "pact-gh-1 " + leaf.name},
			NotBefore: now.Add(-time.Hour), NotAfter: now.Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{leaf.usage},
			IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &k.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		write(leaf.name+".pem", "CERTIFICATE", der)
		writeKey(leaf.name+".key", k)
	}
}
