package sim

import (
	"time"

	"github.com/seed44533760/pact/consensus"
)

// Result is what a run found. It marshals to the JSON of `pact sim --json`;
// the field names are part of the contract (seed, decided_heights,
// safety_violations, ejected at least).
type Result struct {
	Seed      uint64 `json:"seed"`
	Nodes     int    `json:"nodes"`
	Byzantine int    `json:"byzantine"`
	// Tolerated is f: with more Byzantine nodes than this, safety
	// violations are the protocol's limit, not a bug.
	Tolerated int    `json:"tolerated"`
	Strategy  string `json:"strategy"`
	// Adversaries maps each Byzantine node to the strategy it ran.
	Adversaries map[string]string `json:"adversaries"`

	TargetHeights int `json:"target_heights"`
	// DecidedHeights is the height every honest node has decided: the
	// minimum over them.
	DecidedHeights   uint64 `json:"decided_heights"`
	SafetyViolations int    `json:"safety_violations"`
	LivenessOK       bool   `json:"liveness_ok"`
	// DetectionOK is false when an adversary whose misbehaviour the
	// cluster must detect (equivocate, lie-sensor, false-outcome; at most f
	// of them) was still a validator when the run ended.
	DetectionOK bool     `json:"detection_ok"`
	Violations  []string `json:"violations"`

	// Ejected lists the ejected nodes, sorted; Ejections says when and why.
	Ejected   []string   `json:"ejected"`
	Ejections []Ejection `json:"ejections"`
	// EjectedAtMS is the virtual time at which each ejection was first
	// applied by an honest node.
	EjectedAtMS map[string]int64 `json:"ejected_at_ms"`
	// Reports counts the signed reports about the world and the
	// accusations they led to.
	Reports ReportStats `json:"reports"`

	Rounds    RoundStats     `json:"rounds"`
	Messages  MessageStats   `json:"messages"`
	Consensus ConsensusStats `json:"consensus"`
	Faults    FaultStats     `json:"faults"`

	// CertificatesChecked counts the distinct certificates the checker
	// verified.
	CertificatesChecked int `json:"certificates_checked"`
	// SignatureVerifications counts Verifier calls made by the nodes (the
	// checker's own are not included).
	SignatureVerifications uint64 `json:"signature_verifications"`
	FakeSignatures         bool   `json:"fake_signatures"`

	VirtualTimeMS int64  `json:"virtual_time_ms"`
	Events        uint64 `json:"events"`
	// WallMS is filled by the caller: Run never reads a clock.
	WallMS int64 `json:"wall_ms"`
}

// OK reports whether the run broke nothing.
func (r *Result) OK() bool { return r.SafetyViolations == 0 && r.LivenessOK && r.DetectionOK }

// ReportStats counts what the nodes said about the world (world.go,
// reports.go) and the accusations it led to.
type ReportStats struct {
	Readings uint64 `json:"readings"` // signed readings sent (one per sample)
	Outcomes uint64 `json:"outcomes"` // signed outcomes published
	// Refused counts reports an honest node refused: undecodable, not from
	// a current validator, or with a bad signature.
	Refused uint64 `json:"refused"`
	// Accusations counts the accusations made, honest or not, including
	// those made again; Decided those in the longest honest log, of which
	// HonestAgainstHonest were an honest node's accusation of another
	// honest node: a detection that went wrong, always 0 unless the
	// Byzantine nodes outnumber what the cluster tolerates.
	Accusations         uint64 `json:"accusations"`
	Decided             uint64 `json:"accusations_decided"`
	HonestAgainstHonest uint64 `json:"honest_against_honest"`
	// Marks counts the markers honest witnesses proposed to judge the
	// pins they watch (pins.go).
	Marks uint64 `json:"marks"`
	// Network counts the reports' deliveries, like Messages.
	Network MessageStats `json:"network"`
}

// RoundStats tells how hard heights were to decide, from the longest honest
// log: the round of each decision's certificate.
type RoundStats struct {
	Round0   int   `json:"round0"`    // heights decided in round 0
	Later    int   `json:"later"`     // heights that needed more rounds
	MaxRound int32 `json:"max_round"` // the highest round that decided
}

// MessageStats counts deliveries: one per message per recipient.
type MessageStats struct {
	Sent        uint64 `json:"sent"`        // deliveries handed to the network
	Delivered   uint64 `json:"delivered"`   // reached a running process
	Dropped     uint64 `json:"dropped"`     // lost by --drop
	Duplicated  uint64 `json:"duplicated"`  // delivered twice by --dup
	Blocked     uint64 `json:"blocked"`     // cut by a partition
	ToCrashed   uint64 `json:"to_crashed"`  // arrived at a crashed node
	Undecodable uint64 `json:"undecodable"` // refused by the codec at an honest node
}

// FaultStats counts the injected faults.
type FaultStats struct {
	Drop       float64 `json:"drop"`
	Duplicate  float64 `json:"duplicate"`
	Partitions int     `json:"partitions"`
	Crashes    int     `json:"crashes"`
	Restarts   int     `json:"restarts"`
	// HealMS is when the faults ended.
	HealMS int64 `json:"heal_ms"`
}

// ConsensusStats is consensus.Stats summed over the honest nodes (across
// restarts): what the honest nodes saw and refused.
type ConsensusStats struct {
	Received        uint64 `json:"received"`
	Duplicates      uint64 `json:"duplicates"`
	Malformed       uint64 `json:"malformed"`
	BadSignatures   uint64 `json:"bad_signatures"`
	UnknownSenders  uint64 `json:"unknown_senders"`
	NotProposer     uint64 `json:"not_proposer"`
	Stale           uint64 `json:"stale"`
	FutureBuffered  uint64 `json:"future_buffered"`
	FutureDropped   uint64 `json:"future_dropped"`
	InvalidBlocks   uint64 `json:"invalid_blocks"`
	Equivocations   uint64 `json:"equivocations"`
	GuardRefusals   uint64 `json:"guard_refusals"`
	RoundChanges    uint64 `json:"round_changes"`
	Decided         uint64 `json:"decided"`
	CatchUpApplied  uint64 `json:"catch_up_applied"`
	CatchUpServed   uint64 `json:"catch_up_served"`
	BadCertificates uint64 `json:"bad_certificates"`
	DroppedEntries  uint64 `json:"dropped_entries"`
}

func (c *ConsensusStats) add(s consensus.Stats) {
	c.Received += s.Received
	c.Duplicates += s.Duplicates
	c.Malformed += s.Malformed
	c.BadSignatures += s.BadSignatures
	c.UnknownSenders += s.UnknownSenders
	c.NotProposer += s.NotProposer
	c.Stale += s.Stale
	c.FutureBuffered += s.FutureBuffered
	c.FutureDropped += s.FutureDropped
	c.InvalidBlocks += s.InvalidBlocks
	c.Equivocations += s.Equivocations
	c.GuardRefusals += s.GuardRefusals
	c.RoundChanges += s.RoundChanges
	c.Decided += s.Decided
	c.CatchUpApplied += s.CatchUpApplied
	c.CatchUpServed += s.CatchUpServed
	c.BadCertificates += s.BadCertificates
	c.DroppedEntries += s.DroppedEntries
}

// Event is something notable that happened during a run, for narration.
type Event struct {
	At time.Duration
	// Kind is one of "start", "progress", "evidence", "accusation",
	// "ejection", "partition", "partition-end", "crash", "restart", "heal",
	// "violation" and "done".
	Kind   string
	Node   string // the node concerned, if any
	Height uint64 // the height concerned, if any
	Text   string // one sentence for a human
}
