package store

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/seed44533760/pact/consensus"
)

// crashChildEnv names the state file a re-executed test binary writes to
// until it is killed.
const crashChildEnv = "PACT_STORE_CRASH_CHILD"

func TestMain(m *testing.M) {
	if path := os.Getenv(crashChildEnv); path != "" {
		os.Exit(crashChild(path))
	}
	os.Exit(m.Run())
}

// The child runs the agent's write pattern as a numbered sequence of
// operations: op 2h-1 saves the prevote guard of height h, op 2h saves the
// Ready that decides h (precommit guard, commit, snapshot) in one
// transaction. It prints each op's number only after the call returned, so
// every number printed is a claim that the op is durable. It resumes from
// whatever the file holds, so each run continues the last.
func crashChild(path string) int {
	s, err := Open(path, testCluster, testNode, &Options{MustExist: true})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	g, err := s.Guard()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	for op := durableOp(g) + 1; op < 1<<20; op++ {
		h := (op + 1) / 2
		if op%2 == 1 {
			err = s.SaveGuard(testGuard(h, 0, consensus.StepPrevote))
		} else {
			pc := testGuard(h, 0, consensus.StepPrecommit)
			err = s.SaveReady(&pc, []consensus.Commit{testCommit(h, 7, 0)}, &Snapshot{Height: h, Data: []byte(strconv.FormatUint(h, 10))})
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 2
		}
		fmt.Println(op) // os.Stdout is unbuffered: one write(2) per line
	}
	return 0
}

// durableOp is the number of the last op that made guard durable.
func durableOp(g consensus.SignState) uint64 {
	switch g.Step {
	case consensus.StepPrevote:
		return 2*g.Height - 1
	case consensus.StepPrecommit:
		return 2 * g.Height
	}
	return 0
}

// A node killed with SIGKILL at any moment comes back with every write it
// reported done, its guard, log and snapshot from the same Ready (never some
// of one), and at most the one op it was in the middle of beyond that.
func TestCrash_KillAnyMoment(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if v := os.Getenv("PACT_STORE_CRASH_SEED"); v != "" {
		seed, _ = strconv.ParseUint(v, 10, 64)
	}
	t.Logf("seed %d (PACT_STORE_CRASH_SEED=%d reruns it)", seed, seed)
	rng := rand.New(rand.NewPCG(seed, 0))

	exe, err := os.Executable()
	if err != nil {
		t.Skip(err)
	}
	path := filepath.Join(t.TempDir(), "state.db")
	s, err := Open(path, testCluster, testNode, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	var reported uint64 // highest op any child reported durable
	rounds := 6
	if testing.Short() {
		rounds = 3
	}
	for round := range rounds {
		killAfter := 1 + rng.IntN(20) // lines read before the kill
		last, err := runAndKill(exe, path, killAfter, time.Duration(rng.IntN(2000))*time.Microsecond)
		if errors.Is(err, errCannotExec) {
			t.Skip(err)
		}
		if err != nil {
			t.Fatalf("round %d: %v", round, err)
		}
		if last > reported {
			reported = last
		}

		s, err := Open(path, testCluster, testNode, &Options{MustExist: true})
		if err != nil {
			t.Fatalf("round %d: reopen after kill: %v", round, err)
		}
		g, gerr := s.Guard()
		snap, serr := s.Snapshot()
		lastHeight := s.LastHeight()
		c, hasCommit := s.Commit(lastHeight)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		if gerr != nil || serr != nil {
			t.Fatalf("round %d: %v, %v", round, gerr, serr)
		}
		d := durableOp(g)
		if d < reported || d > reported+1 {
			t.Fatalf("round %d: the file holds op %d (guard %v); the child reported op %d durable", round, d, g, reported)
		}
		wantHeight := d / 2 // the last height whose Ready is durable
		if lastHeight != wantHeight || (wantHeight > 0 && (snap == nil || snap.Height != wantHeight)) {
			t.Fatalf("round %d: guard %v with last commit %d and snapshot %v: a Ready was saved in part", round, g, lastHeight, snap)
		}
		if want := testCommit(wantHeight, 7, 0); wantHeight > 0 && (!hasCommit || !commitsEqual(c, &want)) {
			t.Fatalf("round %d: commit %d reads back as %v", round, wantHeight, c)
		}
		t.Logf("round %d: killed after %d reports; op %d reported, op %d durable", round, killAfter, reported, d)
		reported = d // the next child resumes after what is durable
	}
}

var errCannotExec = errors.New("cannot re-execute the test binary")

// runAndKill starts the child, reads killAfter reports, waits delay, kills
// it with SIGKILL and returns the highest op it reported.
func runAndKill(exe, path string, killAfter int, delay time.Duration) (uint64, error) {
	cmd, out, err := startChild(exe, path)
	if err != nil {
		return 0, err
	}
	var last uint64
	sc := bufio.NewScanner(out)
	for n := 0; n < killAfter && sc.Scan(); n++ {
		last, _ = strconv.ParseUint(sc.Text(), 10, 64)
	}
	time.Sleep(delay) // lands the kill somewhere inside an op
	_ = cmd.Process.Signal(syscall.SIGKILL)
	for sc.Scan() { // reports written before the kill still count
		last, _ = strconv.ParseUint(sc.Text(), 10, 64)
	}
	err = cmd.Wait()
	var exit *exec.ExitError
	if !errors.As(err, &exit) || exit.Sys().(syscall.WaitStatus).Signal() != syscall.SIGKILL {
		return 0, fmt.Errorf("child did not die by SIGKILL: %v", err)
	}
	return last, nil
}

// startChild re-executes the test binary as a crash child. Under qemu-user
// (the arm64 test run on an x86 machine) the kernel cannot run the binary
// itself, so the child goes through the same emulator.
func startChild(exe, path string) (*exec.Cmd, io.Reader, error) {
	try := func(name string, args ...string) (*exec.Cmd, io.Reader, error) {
		cmd := exec.Command(name, args...)
		cmd.Env = append(os.Environ(), crashChildEnv+"="+path)
		cmd.Stderr = os.Stderr
		out, err := cmd.StdoutPipe()
		if err != nil {
			return nil, nil, err
		}
		if err := cmd.Start(); err != nil {
			return nil, nil, err
		}
		return cmd, out, nil
	}
	cmd, out, err := try(exe)
	if errors.Is(err, syscall.ENOEXEC) {
		emu := "qemu-" + map[string]string{"arm64": "aarch64", "arm": "arm", "amd64": "x86_64"}[runtime.GOARCH] + "-static"
		if cmd, out, err = try(emu, exe); err != nil {
			return nil, nil, fmt.Errorf("%w: %v", errCannotExec, err)
		}
	}
	return cmd, out, err
}
