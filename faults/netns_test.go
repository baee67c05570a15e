//go:build faults

package faults

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
)

// Network lab
//
// A lab is one test's private network: a bridge in the host namespace that
// holds the .1 of a /24 under 10.0.0.0/8 nobody else uses, and one network
// namespace per node, attached to the bridge by a veth pair, with the node at
// .10+i. The host side of the bridge is where the test's mosquitto listens
// and where the test itself subscribes; nothing else of the host (eth0, its
// routes, its firewall) is touched.
//
// Faults are routes inside the namespaces: a blackhole route to a peer's
// /32 drops everything a node sends that peer, which is one-way loss; put in
// both directions it is a partition. The broker at .1 stays reachable, so the
// decisions of both sides of a partition still reach the test. When the
// kernel has the netem qdisc, netemWorks says so and a test may add delay
// and loss on a node's veth.
//
// Names carry the test process's pid (pactf-<pid>-<lab>-n<i> for
// namespaces, pf<pid hex><lab hex>... for links, which the kernel limits to
// 15 bytes), so that leftovers of a crashed run are recognised and removed by
// the next one (removeStale) instead of blocking it.

// lab is one test's network.
type lab struct {
	t      *testing.T
	id     string // link name prefix: pf<pid><lab>
	bridge string
	subnet string // "10.A.B."
	hostIP string // the bridge's address: the broker's
	nodes  []*labNode
	routes *faultRoutes
}

// faultRoutes are the blackhole routes in place, shared by the copies of a
// lab that subtests use (cluster.on).
type faultRoutes struct {
	mu    sync.Mutex
	holes map[[2]int]bool // {from, to}
}

// labNode is one namespace of a lab.
type labNode struct {
	ns   string // network namespace
	veth string // host side of the veth pair
	ip   string
}

var (
	labSeq      int
	labSeqMu    sync.Mutex
	nsNameRE    = regexp.MustCompile(`^pactf-([0-9]+)-`)
	linkNameRE  = regexp.MustCompile(`^pf([0-9a-f]{6})[0-9a-f]{2}(br|h[0-9]+|p[0-9]+)$`)
	staleOnce   sync.Once
	netemOnce   sync.Once
	netemResult bool
)

// requireLab skips the test unless it can build labs: root, and an ip(8)
// that knows network namespaces.
func requireLab(t *testing.T) {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("the fault suite creates network namespaces, veth pairs and a bridge: run it as root (sudo make test-faults)")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("ip(8) not found: install iproute2 to run the fault suite")
	}
	if out, err := exec.Command("ip", "netns", "list").CombinedOutput(); err != nil {
		t.Skipf("`ip netns` is unavailable here (%v: %s): the fault suite needs network namespaces", err, strings.TrimSpace(string(out)))
	}
	staleOnce.Do(func() { removeStale(t) })
}

// newLab builds a lab of n namespaces; t.Cleanup takes it down, also when the
// test fails.
func newLab(t *testing.T, n int) *lab {
	t.Helper()
	requireLab(t)
	labSeqMu.Lock()
	labSeq++
	seq := labSeq
	labSeqMu.Unlock()
	pid := os.Getpid()
	l := &lab{
		t:      t,
		id:     fmt.Sprintf("pf%06x%02x", pid&0xffffff, seq&0xff),
		subnet: fmt.Sprintf("10.%d.%d.", 64+pid%128, seq%250+1),
		routes: &faultRoutes{holes: map[[2]int]bool{}},
	}
	l.bridge = l.id + "br"
	l.hostIP = l.subnet + "1"
	l.checkSubnetFree()
	t.Cleanup(l.destroy)

	l.ip("link", "add", l.bridge, "type", "bridge")
	l.ip("addr", "add", l.hostIP+"/24", "dev", l.bridge)
	l.ip("link", "set", l.bridge, "up")
	for i := 1; i <= n; i++ {
		nd := &labNode{
			ns:   fmt.Sprintf("pactf-%d-%d-n%d", pid, seq, i),
			veth: fmt.Sprintf("%sh%d", l.id, i),
			ip:   l.subnet + strconv.Itoa(10+i),
		}
		l.nodes = append(l.nodes, nd)
		peer := fmt.Sprintf("%sp%d", l.id, i) // renamed eth0 inside
		l.ip("netns", "add", nd.ns)
		l.ip("link", "add", nd.veth, "type", "veth", "peer", "name", peer)
		l.ip("link", "set", peer, "netns", nd.ns)
		l.ip("link", "set", nd.veth, "master", l.bridge)
		l.ip("link", "set", nd.veth, "up")
		l.in(i, "ip", "link", "set", "lo", "up")
		l.in(i, "ip", "link", "set", peer, "name", "eth0")
		l.in(i, "ip", "addr", "add", nd.ip+"/24", "dev", "eth0")
		l.in(i, "ip", "link", "set", "eth0", "up")
	}
	return l
}

// checkSubnetFree fails the test if the host already has an address in the
// lab's /24: the lab must not shadow a network the machine uses.
func (l *lab) checkSubnetFree() {
	_, mine, _ := net.ParseCIDR(l.subnet + "0/24")
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		l.t.Fatalf("list the host's addresses: %v", err)
	}
	for _, a := range addrs {
		if ipn, ok := a.(*net.IPNet); ok && (mine.Contains(ipn.IP) || ipn.Contains(mine.IP)) && !ipn.IP.IsLoopback() {
			l.t.Fatalf("the host already uses %s (%s), which overlaps the lab's %s0/24; remove it or run from another pid", ipn, a.Network(), l.subnet)
		}
	}
}

// ip runs ip(8) in the host namespace and fails the test if it fails.
func (l *lab) ip(args ...string) {
	l.t.Helper()
	if out, err := exec.Command("ip", args...).CombinedOutput(); err != nil {
		l.t.Fatalf("ip %s: %v: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
}

// in runs a command inside node i's namespace and fails the test if it
// fails.
func (l *lab) in(i int, args ...string) {
	l.t.Helper()
	cmd := exec.Command("ip", append([]string{"netns", "exec", l.nodes[i-1].ns}, args...)...)
	if out, err := cmd.CombinedOutput(); err != nil {
		l.t.Fatalf("in %s: %s: %v: %s", l.nodes[i-1].ns, strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
}

// command is a command that runs inside node i's namespace. ip netns exec
// execs it in place, so the process is the command itself: signals sent to
// cmd.Process reach it, not a wrapper.
func (l *lab) command(i int, name string, args ...string) *exec.Cmd {
	cmd := exec.Command("ip", append([]string{"netns", "exec", l.nodes[i-1].ns, name}, args...)...)
	// A test binary that dies (a panic, go test's -timeout) takes its
	// agents with it rather than leaving them in a namespace.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	return cmd
}

// block drops everything node from sends to node to (1-based).
func (l *lab) block(from, to int) {
	l.t.Helper()
	r := l.routes
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.holes[[2]int{from, to}] {
		return
	}
	l.in(from, "ip", "route", "add", "blackhole", l.nodes[to-1].ip+"/32")
	r.holes[[2]int{from, to}] = true
}

// partition cuts every link between the sides, both ways; each side keeps
// its own links and the broker.
func (l *lab) partition(sides ...[]int) {
	l.t.Helper()
	for a, side := range sides {
		for b, other := range sides {
			if a == b {
				continue
			}
			for _, from := range side {
				for _, to := range other {
					l.block(from, to)
				}
			}
		}
	}
	l.t.Logf("partitioned %v", sides)
}

// heal removes every fault route.
func (l *lab) heal() {
	l.t.Helper()
	r := l.routes
	r.mu.Lock()
	defer r.mu.Unlock()
	for h := range r.holes {
		l.in(h[0], "ip", "route", "del", "blackhole", l.nodes[h[1]-1].ip+"/32")
		delete(r.holes, h)
	}
	l.t.Log("healed: every link is back")
}

// destroy removes the namespaces (which takes their veth ends, and so the
// pairs, with them) and the bridge. Errors are logged, not fatal: cleanup
// must go on.
func (l *lab) destroy() {
	for _, nd := range l.nodes {
		killNamespace(l.t, nd.ns)
	}
	if out, err := exec.Command("ip", "link", "del", l.bridge).CombinedOutput(); err != nil && !strings.Contains(string(out), "Cannot find") {
		l.t.Logf("cleanup: ip link del %s: %v: %s", l.bridge, err, out)
	}
}

// killNamespace kills whatever still runs in ns and deletes it.
func killNamespace(t *testing.T, ns string) {
	if out, err := exec.Command("ip", "netns", "pids", ns).Output(); err == nil {
		for _, f := range strings.Fields(string(out)) {
			if pid, err := strconv.Atoi(f); err == nil {
				_ = syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	if out, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil && !strings.Contains(string(out), "No such file") {
		t.Logf("cleanup: ip netns del %s: %v: %s", ns, err, out)
	}
}

// removeStale deletes namespaces and links that runs of this suite left
// behind: those named for a pid that no longer runs.
func removeStale(t *testing.T) {
	dead := func(pid int) bool {
		_, err := os.Stat("/proc/" + strconv.Itoa(pid))
		return pid != os.Getpid() && err != nil
	}
	if out, err := exec.Command("ip", "netns", "list").Output(); err == nil {
		for _, line := range strings.Split(string(out), "\n") {
			fields := strings.Fields(line)
			if len(fields) == 0 {
				continue
			}
			if m := nsNameRE.FindStringSubmatch(fields[0]); m != nil {
				if pid, _ := strconv.Atoi(m[1]); dead(pid) {
					t.Logf("removing namespace %s left by an earlier run", fields[0])
					killNamespace(t, fields[0])
				}
			}
		}
	}
	links, err := net.Interfaces()
	if err != nil {
		return
	}
	for _, ifc := range links {
		m := linkNameRE.FindStringSubmatch(ifc.Name)
		if m == nil {
			continue
		}
		// The pid is kept modulo 2^24; on Linux pid_max is at most 2^22.
		if pid, _ := strconv.ParseInt(m[1], 16, 64); dead(int(pid)) {
			t.Logf("removing link %s left by an earlier run", ifc.Name)
			_ = exec.Command("ip", "link", "del", ifc.Name).Run()
		}
	}
}

// netemAvailable says whether the kernel has the netem qdisc (many
// container and CI kernels do not): it tries one on the loopback of a
// throwaway namespace.
func netemAvailable(t *testing.T) bool {
	t.Helper()
	requireLab(t)
	netemOnce.Do(func() {
		if _, err := exec.LookPath("tc"); err != nil {
			return
		}
		ns := fmt.Sprintf("pactf-%d-netem", os.Getpid())
		if exec.Command("ip", "netns", "add", ns).Run() != nil {
			return
		}
		defer killNamespace(t, ns)
		netemResult = exec.Command("ip", "netns", "exec", ns, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms").Run() == nil
	})
	return netemResult
}

// netem puts delay, jitter and loss on node i's link, both ways (the host
// side shapes what reaches the node, the namespace side what leaves it).
func (l *lab) netem(i int, spec ...string) {
	l.t.Helper()
	if out, err := exec.Command("tc", append([]string{"qdisc", "replace", "dev", l.nodes[i-1].veth, "root", "netem"}, spec...)...).CombinedOutput(); err != nil {
		l.t.Fatalf("tc netem on %s: %v: %s", l.nodes[i-1].veth, err, out)
	}
	l.in(i, append([]string{"tc", "qdisc", "replace", "dev", "eth0", "root", "netem"}, spec...)...)
}
