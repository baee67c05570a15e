package sim

import (
	"bytes"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"

	"github.com/seed44533760/pact/agent/wire"
	"github.com/seed44533760/pact/consensus"
)

// Accusations
//
// Misbehaviour that is not self-proving — readings that disagree with every
// peer's, an ok outcome for a pin that never moved — is reported by the
// nodes that saw it, each in an entry of its own:
//
//	accuse/<accuser>/<accused>/<reason>/<height>\x00<signature>
//
// signed by the accuser over accuseDomain, the cluster and the text before
// the NUL, so that no proposer can put words in an honest node's mouth.
// <height> is the accuser's height when it accused: it keeps an accusation
// made again later a new entry, and bounds how long an undecided one stays
// valid (accuseWindow). One accusation proves nothing, since its author may
// lie; f+1 distinct validators accusing one node within accuseWindow heights
// do, as at least one of them is honest (DESIGN.md, "Mitigation ladder").
const (
	accusePrefix = "accuse/"
	accuseDomain = "pact/sim/accusation/v1"

	// accuseWindow is how many heights a decided accusation counts for, and
	// how long after its <height> it may still be decided. Heights come
	// every few tens of milliseconds of virtual time while the client is
	// busy: 200 of them are several seconds, wider than the spread between
	// honest accusers of one liar.
	accuseWindow = 200
)

// reasonAccused is the Reason of an ejection by f+1 accusers;
// reasonEquivocation that of an eject entry carrying equivocation evidence.
const (
	reasonEquivocation = "equivocation"
	reasonAccused      = "accused"
)

// accuseReasons are the reasons an accusation may give.
var accuseReasons = []string{wire.AccuseReadings, wire.AccuseWitness, wire.AccuseRogue}

// accusation is one parsed accusation entry.
type accusation struct {
	accuser, accused consensus.NodeID
	reason           string
	height           uint64
	sig              []byte
}

// text is what the accuser signs (with the domain and cluster).
func (a *accusation) text() string {
	return accusePrefix + string(a.accuser) + "/" + string(a.accused) + "/" + a.reason + "/" + strconv.FormatUint(a.height, 10)
}

func accuseSignBytes(cluster, text string) []byte {
	return []byte(accuseDomain + "\n" + cluster + "\n" + text)
}

// accuseEntry makes the entry of a, signed by signer (the accuser's).
func accuseEntry(cluster string, signer consensus.Signer, a accusation) consensus.Entry {
	text := a.text()
	sig := signer.Sign(accuseSignBytes(cluster, text))
	e := make([]byte, 0, len(text)+1+len(sig))
	e = append(e, text...)
	e = append(e, 0)
	return append(e, sig...)
}

// parseAccusation splits an accusation entry; ok is false for any other
// entry. It checks the form, not the signature.
func parseAccusation(e consensus.Entry) (a accusation, ok bool, err error) {
	if !bytes.HasPrefix(e, []byte(accusePrefix)) {
		return a, false, nil
	}
	text, sig, found := bytes.Cut(e, []byte{0})
	parts := strings.Split(string(text), "/")
	if !found || len(sig) == 0 || len(parts) != 5 {
		return a, true, fmt.Errorf("%w: want accuse/<accuser>/<accused>/<reason>/<height> and a signature", errMalformedEntry)
	}
	h, herr := strconv.ParseUint(parts[4], 10, 64)
	a = accusation{accuser: consensus.NodeID(parts[1]), accused: consensus.NodeID(parts[2]), reason: parts[3], height: h, sig: sig}
	switch {
	case herr != nil || a.text() != string(text):
		return a, true, fmt.Errorf("%w: accusation %.60q", errMalformedEntry, text)
	case a.accuser == "" || a.accused == "":
		return a, true, fmt.Errorf("%w: accusation without an accuser or accused", errMalformedEntry)
	case !slices.Contains(accuseReasons, a.reason):
		return a, true, fmt.Errorf("%w: unknown reason %q", errBadAccusation, a.reason)
	}
	return a, true, nil
}

// ledger is the agreed validator-set transition: genesis, minus the
// offenders of eject entries, minus every node that f+1 current validators
// accused within the last accuseWindow heights (f of the set in force).
// Every replica of the application runs it, and so does the checker, to
// know which set must have signed each certificate.
type ledger struct {
	vals *consensus.ValidatorSet
	// counts holds the decided accusations: accused → accuser → the
	// latest.
	counts map[consensus.NodeID]map[consensus.NodeID]decidedAccusation
}

type decidedAccusation struct {
	height uint64 // where it was decided
	reason string
}

func newLedger(genesis *consensus.ValidatorSet) *ledger {
	return &ledger{vals: genesis, counts: make(map[consensus.NodeID]map[consensus.NodeID]decidedAccusation)}
}

// apply moves the ledger past one decided block and returns who left the
// set: offenders of eject entries first, in entry order, then the accused
// whose distinct accusers reach f+1, in name order. Entries were validated
// before they were decided; apply skips anything malformed all the same,
// as the checker replays logs it does not trust.
func (l *ledger) apply(height uint64, entries []consensus.Entry) []Ejection {
	var out []Ejection
	for _, e := range entries {
		if node, _, isEject, err := parseEject(e); isEject {
			if err == nil && l.remove(node) {
				out = append(out, Ejection{Node: string(node), Height: height, Reason: reasonEquivocation})
			}
			continue
		}
		if a, ok, err := parseAccusation(e); ok && err == nil && a.accuser != a.accused {
			byAccuser := l.counts[a.accused]
			if byAccuser == nil {
				byAccuser = make(map[consensus.NodeID]decidedAccusation)
				l.counts[a.accused] = byAccuser
			}
			byAccuser[a.accuser] = decidedAccusation{height: height, reason: a.reason}
		}
	}
	if len(l.counts) == 0 {
		return out
	}
	need := l.vals.Faulty() + 1
	for _, accused := range slices.Sorted(maps.Keys(l.counts)) {
		byAccuser := l.counts[accused]
		maps.DeleteFunc(byAccuser, func(_ consensus.NodeID, d decidedAccusation) bool { return d.height+accuseWindow <= height })
		if len(byAccuser) == 0 || !l.vals.Has(accused) {
			delete(l.counts, accused)
			continue
		}
		var accusers, grounds []string
		for accuser, d := range byAccuser {
			if l.vals.Has(accuser) {
				accusers = append(accusers, string(accuser))
				if !slices.Contains(grounds, d.reason) {
					grounds = append(grounds, d.reason)
				}
			}
		}
		if len(accusers) < need || !l.remove(accused) {
			continue
		}
		slices.Sort(accusers)
		slices.Sort(grounds)
		delete(l.counts, accused)
		out = append(out, Ejection{Node: string(accused), Height: height, Reason: reasonAccused, Accusers: accusers, Grounds: grounds})
	}
	return out
}

// remove takes node out of the set, unless it is not in it or is the last.
func (l *ledger) remove(node consensus.NodeID) bool {
	if !l.vals.Has(node) {
		return false
	}
	smaller, err := l.vals.Without(node)
	if err != nil {
		return false
	}
	l.vals = smaller
	return true
}
