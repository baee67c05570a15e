package report

import (
	"sync"

	"github.com/seed44533760/pact/agent/store"
)

// groupCommit writes durable messages to the outbox, sharing fsyncs
// between callers. A caller that finds no write in progress writes
// everything queued so far in one transaction (and whatever queued up
// meanwhile, in further ones); a caller that finds one in progress queues
// its message and waits for the writer to take it. Either way the call
// returns once its own message is durable, and messages are stored in the
// order the calls queued them. One goroutine calling alone pays one fsync
// per message, as with Put; many calling at once (a burst of outcomes from
// the agent's workers) pay about one per batch.
type groupCommit struct {
	outbox *store.Outbox

	mu      sync.Mutex
	queued  *commitBatch // collecting, not yet taken by a writer
	writing bool
}

type commitBatch struct {
	msgs []store.Outbound
	done chan struct{} // closed once written (or failed)
	err  error
}

// put returns once msgs are in the outbox, in order and in one transaction,
// or the write failed.
func (g *groupCommit) put(msgs ...store.Outbound) error {
	g.mu.Lock()
	if g.queued == nil {
		g.queued = &commitBatch{done: make(chan struct{})}
	}
	mine := g.queued
	mine.msgs = append(mine.msgs, msgs...)
	if g.writing {
		g.mu.Unlock()
		<-mine.done
		return mine.err
	}
	g.writing = true
	for g.queued != nil {
		b := g.queued
		g.queued = nil
		g.mu.Unlock()
		_, b.err = g.outbox.PutBatch(b.msgs)
		close(b.done)
		g.mu.Lock()
	}
	g.writing = false
	g.mu.Unlock()
	return mine.err
}
