package sim

import "time"

type eventKind uint8

const (
	evTick         eventKind = iota + 1 // a process's consensus Tick
	evDeliver                           // bytes arrive at a process
	evEntry                             // a client entry reaches a process
	evWorkload                          // the client makes a new entry
	evCrash                             // a node goes down
	evRestart                           // a node comes back
	evPartition                         // a partition starts (narration only)
	evPartitionEnd                      // a partition ends (narration only)
	evHeal                              // the fault phase ends
	evSample                            // a process reads its sensor
	evAudit                             // a process looks for suspects
	evReport                            // a signed report arrives at a process
	evOutcome                           // a performer's drive ends: it reports
)

// event is one thing that happens at a virtual time. Events at the same time
// happen in the order they were scheduled (seq), which is what makes a run
// reproducible.
type event struct {
	at   time.Duration
	seq  uint64
	kind eventKind
	proc int    // target process (tick, deliver, entry, …); node number for crash/restart
	from int    // sending process (deliver, report); partition index; outcome number
	data []byte // message bytes (deliver, report), entry (entry)
}

func (e *event) before(o *event) bool {
	if e.at != o.at {
		return e.at < o.at
	}
	return e.seq < o.seq
}

// eventQueue is a binary min-heap of events ordered by (at, seq).
type eventQueue struct {
	items []event
	seq   uint64
}

func (q *eventQueue) Len() int { return len(q.items) }

func (q *eventQueue) push(e event) {
	q.seq++
	e.seq = q.seq
	q.items = append(q.items, e)
	i := len(q.items) - 1
	for i > 0 {
		parent := (i - 1) / 2
		if !q.items[i].before(&q.items[parent]) {
			break
		}
		q.items[i], q.items[parent] = q.items[parent], q.items[i]
		i = parent
	}
}

func (q *eventQueue) pop() event {
	top := q.items[0]
	last := len(q.items) - 1
	q.items[0] = q.items[last]
	q.items[last] = event{}
	q.items = q.items[:last]
	i := 0
	for {
		l, r, small := 2*i+1, 2*i+2, i
		if l < last && q.items[l].before(&q.items[small]) {
			small = l
		}
		if r < last && q.items[r].before(&q.items[small]) {
			small = r
		}
		if small == i {
			return top
		}
		q.items[i], q.items[small] = q.items[small], q.items[i]
		i = small
	}
}
