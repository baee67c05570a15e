package sim

import (
	"fmt"
	"slices"
	"strings"

	"github.com/seed44533760/pact/consensus"
)

// Violation is one broken invariant.
type Violation struct {
	// Kind is "agreement", "double-sign", "certificate", "honest-ejected",
	// "log", "liveness" or "not-ejected".
	Kind string
	// Safety is false for liveness and not-ejected.
	Safety bool
	Detail string
}

func (v Violation) String() string { return v.Kind + ": " + v.Detail }

// checker verifies the invariants of a run. It watches every message an
// honest node signs as it leaves (so a node that forgets its guard across a
// restart is caught even when the network loses the evidence), and checks the
// honest nodes' persisted logs at the end. Adversaries — twins included —
// are not checked: they may do anything.
type checker struct {
	cluster  string
	verifier consensus.Verifier
	genesis  *consensus.ValidatorSet

	signed     map[consensus.NodeID]map[stepKey]signedValue
	reported   map[consensus.NodeID]map[stepKey]bool // double signs already reported
	violations []Violation
	certs      int // certificates verified
}

type signedValue struct {
	hash     consensus.Hash
	polRound int32
}

func newChecker(cluster string, genesis *consensus.ValidatorSet, v consensus.Verifier) *checker {
	return &checker{
		cluster:  cluster,
		verifier: &cachedVerifier{v: v, seen: make(map[string]bool)},
		genesis:  genesis,
		signed:   make(map[consensus.NodeID]map[stepKey]signedValue),
		reported: make(map[consensus.NodeID]map[stepKey]bool),
	}
}

func (c *checker) violate(kind string, safety bool, format string, args ...any) Violation {
	v := Violation{Kind: kind, Safety: safety, Detail: fmt.Sprintf(format, args...)}
	c.violations = append(c.violations, v)
	return v
}

// observeSigned records a proposal or vote an honest node emitted; it
// reports the violation when the node had signed something else for the same
// height, round and type.
func (c *checker) observeSigned(node consensus.NodeID, m *consensus.Message) *Violation {
	if m.From != node || (m.Type != consensus.MsgProposal && !m.IsVote()) {
		return nil
	}
	byStep := c.signed[node]
	if byStep == nil {
		byStep = make(map[stepKey]signedValue)
		c.signed[node] = byStep
	}
	k := stepKey{m.Height, m.Round, m.Type}
	v := signedValue{hash: m.BlockHash, polRound: m.POLRound}
	if m.Type != consensus.MsgProposal {
		v.polRound = 0
	}
	old, seen := byStep[k]
	if !seen {
		byStep[k] = v
		return nil
	}
	if old == v || c.reported[node][k] {
		return nil
	}
	if c.reported[node] == nil {
		c.reported[node] = make(map[stepKey]bool)
	}
	c.reported[node][k] = true
	what := func(s signedValue) string {
		if m.Type == consensus.MsgProposal {
			return fmt.Sprintf("%s (pol %d)", s.hash, s.polRound)
		}
		return s.hash.String()
	}
	vio := c.violate("double-sign", true, "honest %s signed two %ss at h=%d r=%d: %s and %s",
		node, m.Type, m.Height, m.Round, what(old), what(v))
	return &vio
}

// cachedVerifier remembers verdicts: the honest nodes' certificates share
// most of their votes, and each needs checking once.
type cachedVerifier struct {
	v    consensus.Verifier
	seen map[string]bool
}

func (c *cachedVerifier) Verify(pub consensus.PublicKey, msg, sig []byte) bool {
	k := string(pub) + "\x00" + string(msg) + "\x00" + string(sig)
	ok, hit := c.seen[k]
	if !hit {
		ok = c.v.Verify(pub, msg, sig)
		c.seen[k] = ok
	}
	return ok
}

// checkLogs checks the decided logs of the honest nodes: every log is
// contiguous from height 1, no two nodes decided different blocks at a
// height, every decision carries a certificate from the validator set in
// force at its height, and no honest node was ejected. It returns the
// ejections of the longest log.
func (c *checker) checkLogs(logs map[consensus.NodeID][]consensus.Commit) []Ejection {
	nodes := make([]consensus.NodeID, 0, len(logs))
	for id := range logs {
		nodes = append(nodes, id)
	}
	slices.Sort(nodes)

	// Agreement.
	type first struct {
		node consensus.NodeID
		hash consensus.Hash
	}
	var byHeight []first
	for _, id := range nodes {
		for i := range logs[id] {
			cm := &logs[id][i]
			if cm.Block.Height != uint64(i+1) {
				c.violate("log", true, "%s's log holds height %d at position %d", id, cm.Block.Height, i+1)
				break
			}
			h := cm.Block.Hash()
			if i == len(byHeight) {
				byHeight = append(byHeight, first{id, h})
			} else if f := byHeight[i]; f.hash != h {
				c.violate("agreement", true, "height %d: %s decided %s but %s decided %s", i+1, f.node, f.hash, id, h)
			}
		}
	}

	// Certificates, each checked against the set its node had in force;
	// identical certificates are verified once.
	verified := make(map[string]bool)
	var longest []Ejection
	for _, id := range nodes {
		led := newLedger(c.genesis)
		var ejections []Ejection
		for i := range logs[id] {
			cm := &logs[id][i]
			k := certKey(cm, led.vals)
			if _, done := verified[k]; !done {
				err := consensus.VerifyCommit(c.cluster, cm, led.vals, c.verifier)
				verified[k] = err == nil
				c.certs++
				if err != nil {
					c.violate("certificate", true, "%s's decision at height %d: %v", id, cm.Block.Height, err)
				}
			}
			ejections = append(ejections, led.apply(cm.Block.Height, cm.Block.Entries)...)
		}
		if len(ejections) >= len(longest) {
			longest = ejections
		}
	}
	for _, e := range longest {
		if _, honest := logs[consensus.NodeID(e.Node)]; honest {
			c.violate("honest-ejected", true, "honest %s was ejected at height %d", e.Node, e.Height)
		}
	}
	return longest
}

// certKey identifies a certificate and the set it is checked against.
func certKey(cm *consensus.Commit, vals *consensus.ValidatorSet) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%d/%x/", cm.Block.Height, cm.Round, cm.Block.Hash())
	for _, v := range vals.IDs() {
		b.WriteString(string(v))
		b.WriteByte(',')
	}
	for _, v := range cm.Votes {
		b.WriteString(string(v.From))
		b.WriteByte('=')
		b.Write(v.Signature)
		b.WriteByte(';')
	}
	return b.String()
}

// safetyCount is the number of safety violations found.
func (c *checker) safetyCount() int {
	n := 0
	for _, v := range c.violations {
		if v.Safety {
			n++
		}
	}
	return n
}
