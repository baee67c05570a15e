package agent

import (
	"context"
	"crypto/ed25519"
	"math/rand/v2"
	"slices"
	"sync"
	"time"

	"github.com/seed44533760/pact/consensus"
)

// replay: the node re-sends old messages, validly signed.
//
//   - Entries already decided, in its own signed entry frames: every honest
//     node's agreed state refuses them (an advert no newer than the
//     committed one, a request already assigned, an admission used).
//   - Old consensus messages: a precommit from the certificate of one of
//     the last replayWindow stored commits (any validator's signature, as
//     this node received it), or one of its own earlier votes. Not
//     attributable: a stale vote is what a slow network delivers too.

const (
	// replayEvery is how often one decided entry and one old consensus
	// message are re-sent: two of each a second.
	replayEvery = 500 * time.Millisecond
	// replayWindow is how many heights back certificates are replayed from.
	replayWindow = 32
	// decidedMemory and ownVoteMemory bound what is kept to replay.
	decidedMemory = 64
	ownVoteMemory = 256
)

// commitSource is where decided blocks are read: *store.Store.
type commitSource interface {
	LastHeight() uint64
	Commit(height uint64) (*consensus.Commit, bool)
}

type replayer struct {
	cluster, self string
	key           ed25519.PrivateKey
	net           adversaryNet
	rng           *rand.Rand
	commits       commitSource
	decided       *entryRing
	votes         *voteRing
}

func newReplayer(cluster, self string, key ed25519.PrivateKey, net adversaryNet, commits commitSource, decided *entryRing, votes *voteRing) *replayer {
	return &replayer{cluster: cluster, self: self, key: key, net: net, rng: seededRand(self, "replay"),
		commits: commits, decided: decided, votes: votes}
}

func (r *replayer) run(ctx context.Context) { every(ctx, replayEvery, r.tick) }

func (r *replayer) tick() {
	m, mok := r.oldMessage()
	if e, ok := r.decided.pick(r.rng); ok {
		r.net.SendFrame("", kindEntry, encodeEntryFrame(r.cluster, r.self, r.key, e), true)
	}
	if mok {
		r.net.Send(m)
	}
}

// oldMessage is one of this node's own earlier votes or, as often, a
// precommit of a stored certificate. Reading a stored block also keeps its
// entries to replay, so replay has entries even before noteDecided is fed.
func (r *replayer) oldMessage() (consensus.Message, bool) {
	if r.votes.len() > 0 && r.rng.IntN(2) == 0 {
		return r.votes.pick(r.rng)
	}
	last := r.commits.LastHeight()
	if last == 0 {
		return r.votes.pick(r.rng)
	}
	c, ok := r.commits.Commit(last - r.rng.Uint64N(min(last, replayWindow)))
	if !ok || len(c.Votes) == 0 {
		return r.votes.pick(r.rng)
	}
	r.decided.keep(c.Block.Entries)
	v := c.Votes[r.rng.IntN(len(c.Votes))]
	return consensus.Message{
		Type: consensus.MsgPrecommit, From: v.From, Height: c.Block.Height, Round: c.Round,
		BlockHash: c.Block.Hash(), Signature: slices.Clone(v.Signature),
	}, true
}

// entryRing holds the last entries kept, each once. Safe for concurrent
// use: the loop keeps decided entries, the replayer reads them.
type entryRing struct {
	mu   sync.Mutex
	buf  []consensus.Entry
	next int
	has  map[string]bool
}

func newEntryRing(n int) *entryRing {
	return &entryRing{buf: make([]consensus.Entry, 0, n), has: map[string]bool{}}
}

func (r *entryRing) keep(entries []consensus.Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for _, e := range entries {
		if len(e) == 0 || r.has[string(e)] {
			continue
		}
		e = slices.Clone(e)
		r.has[string(e)] = true
		if len(r.buf) < cap(r.buf) {
			r.buf = append(r.buf, e)
			continue
		}
		delete(r.has, string(r.buf[r.next]))
		r.buf[r.next] = e
		r.next = (r.next + 1) % len(r.buf)
	}
}

func (r *entryRing) pick(rng *rand.Rand) (consensus.Entry, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.buf) == 0 {
		return nil, false
	}
	return r.buf[rng.IntN(len(r.buf))], true
}

// voteRing holds this node's last votes, as signed. Safe for concurrent
// use: send keeps them on the loop goroutine, replay and flood read them.
type voteRing struct {
	mu   sync.Mutex
	buf  []consensus.Message
	next int
}

func newVoteRing(n int) *voteRing { return &voteRing{buf: make([]consensus.Message, 0, n)} }

func (r *voteRing) keep(m consensus.Message) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.buf) < cap(r.buf) {
		r.buf = append(r.buf, m)
		return
	}
	r.buf[r.next] = m
	r.next = (r.next + 1) % len(r.buf)
}

func (r *voteRing) len() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.buf)
}

func (r *voteRing) pick(rng *rand.Rand) (consensus.Message, bool) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.buf) == 0 {
		return consensus.Message{}, false
	}
	return r.buf[rng.IntN(len(r.buf))], true
}

// snapshot copies the votes held, in no promised order.
func (r *voteRing) snapshot() []consensus.Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.buf)
}
