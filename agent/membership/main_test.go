package membership

import (
	"os"
	"testing"
)

// The test binary doubles as the program of tests that need another
// network namespace (mDNS): TestMain runs a child role when childEnv says
// so. (Failure detection with SIGKILL and SIGSTOP, in separate processes,
// is bench's BenchmarkCrashDetection.)
const childEnv = "PACT_MEMBERSHIP_CHILD"

func TestMain(m *testing.M) {
	switch os.Getenv(childEnv) {
	case "mdns":
		os.Exit(runMDNSChild())
	}
	os.Exit(m.Run())
}
