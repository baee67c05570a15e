package version

import (
	"runtime"
	"testing"
)

func TestString_ReportsBuildAndPlatform(t *testing.T) {
	tests := []struct {
		name            string
		version, commit string
		want            string
	}{
		{
			name:    "defaults",
			version: "dev", commit: "unknown",
			want: "pact dev (commit unknown, " + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")",
		},
		{
			name:    "stamped",
			version: "v0.1.0-3-gabc1234-dirty", commit: "abc1234",
			want: "pact v0.1.0-3-gabc1234-dirty (commit abc1234, " + runtime.Version() + ", " + runtime.GOOS + "/" + runtime.GOARCH + ")",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			oldVersion, oldCommit := Version, Commit
			t.Cleanup(func() { Version, Commit = oldVersion, oldCommit })
			Version, Commit = tt.version, tt.commit

			if got := String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}
