package agent

import (
	"context"
	"crypto/ed25519"
	"slices"
	"time"

	"github.com/seed44533760/pact/agent/agreed"
	"github.com/seed44533760/pact/agent/capability"
)

// flood: message storms, under the node's own name. Every floodBurstEvery
// a burst of entry frames and consensus messages, all best-effort:
//
//   - entry frames of its own adverts, validly signed, at its document's
//     seq and the floodAdverts-1 below it: never newer than what it
//     advertises itself, so refused once that is decided (and harmless
//     duplicates of it before);
//   - its own earlier votes, exactly as it signed them: stale, never
//     conflicting.
//
// Receivers pay a signature check per frame up to the sender's token
// bucket (transport.Config.RatePerSecond, Burst) and drop the rest unread:
// the flood costs the honest nodes little, and the flooder its own votes'
// budget.

const (
	floodBurstEvery      = 100 * time.Millisecond
	floodEntriesPerBurst = 20 // 200 entry frames a second
	floodVotesPerBurst   = 50 // 500 consensus messages a second
	floodAdverts         = 8  // distinct adverts cycled through
)

type flooder struct {
	net    adversaryNet
	frames [][]byte // entry frames, signed once
	votes  *voteRing
	nf, nv int // where the next burst starts; run's goroutine only
}

func newFlooder(cluster, self string, key ed25519.PrivateKey, net adversaryNet, doc *capability.Document, votes *voteRing) *flooder {
	f := &flooder{net: net, votes: votes}
	if doc == nil {
		return f
	}
	for i := range uint64(floodAdverts) {
		if i > doc.Seq {
			break
		}
		d := *doc
		d.Sensors, d.Outputs, d.Inputs = slices.Clone(doc.Sensors), slices.Clone(doc.Outputs), slices.Clone(doc.Inputs)
		d.Seq = doc.Seq - i
		d.Sign(key)
		e := (&agreed.Entry{Type: agreed.TypeAdvertise, Doc: &d}).Encode()
		f.frames = append(f.frames, encodeEntryFrame(cluster, self, key, e))
	}
	return f
}

func (f *flooder) run(ctx context.Context) { every(ctx, floodBurstEvery, f.burst) }

func (f *flooder) burst() {
	if len(f.frames) > 0 {
		for range floodEntriesPerBurst {
			f.net.SendFrame("", kindEntry, f.frames[f.nf%len(f.frames)], false)
			f.nf++
		}
	}
	votes := f.votes.snapshot()
	if len(votes) == 0 {
		return
	}
	for range floodVotesPerBurst {
		m := votes[f.nv%len(votes)]
		m.To = ""
		f.net.Send(m)
		f.nv++
	}
}
