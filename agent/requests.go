package agent

import (
	"fmt"
	"sort"
	"time"

	"github.com/seed44533760/pact/agent/report"
	"github.com/seed44533760/pact/agent/wire"
)

// Requests
//
// Every node subscribes to requests/+, so every node holds each request an
// operator publishes and can put its assignment in a block when it leads a
// round. The assign entry is built from the agreed state (who performs it
// is a function of that state), so it is built again after every decided
// height until the request's id is in the agreed state: an entry built
// against an older state names a performer the validators would now refuse
// (and the proposer rebuilds what it puts in a block anyway: see
// agreed/prepare.go).

// requestPatience is how long a request waits for an eligible performer
// (capabilities still being agreed at start-up) before it is refused.
const requestPatience = 30 * time.Second

type pendingRequest struct {
	req      *wire.Request
	operator string
	since    time.Time
}

// takeRequest handles a verified request from the broker; loop goroutine.
func (a *Agent) takeRequest(in report.InboundRequest) {
	req := in.Request
	a.counters.requestsReceived++
	if h, used := a.state.Requests[req.ID]; used {
		a.refuseRequest(req.ID, fmt.Sprintf("request id %s was already used (decided at height %d): a replayed request is never run again", req.ID, h))
		return
	}
	if _, pending := a.requests[req.ID]; pending {
		return
	}
	p := &pendingRequest{req: req, operator: in.Operator, since: time.Now()}
	a.requests[req.ID] = p
	a.tryAssign(p)
}

func (a *Agent) refuseRequest(id, why string) {
	a.counters.requestsRefused++
	a.log.Warn("request refused", "request_id", id, "why", why)
	if err := a.reports.PublishError(id, why); err != nil {
		a.counters.reportErrors++
	}
}

// tryAssign builds the request's assign entry against the current state and
// proposes it. A request that cannot be assigned for a reason that time
// will not fix is answered on errors and dropped.
func (a *Agent) tryAssign(p *pendingRequest) {
	id := p.req.ID
	e, err := a.state.AssignRequest(p.req)
	if err != nil {
		_, known := a.cluster.Actions[p.req.Action]
		waiting := known && len(a.state.Eligible(p.req.Action, id, nil)) == 0 && time.Since(p.since) < requestPatience
		if !waiting {
			delete(a.requests, id)
			a.refuseRequest(id, err.Error())
		}
		return
	}
	// Proposed again even when unchanged: the proposer's Prepare may have
	// forgotten it (agreed.State.Prepare); the core keeps one copy.
	a.node.Propose(e.Encode())
}

// retryRequests runs after a decided height: requests now in the agreed
// state are done, the others get an entry built against the new state.
func (a *Agent) retryRequests() {
	ids := make([]string, 0, len(a.requests))
	for id := range a.requests {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	for _, id := range ids {
		if _, done := a.state.Requests[id]; done {
			delete(a.requests, id)
			continue
		}
		a.tryAssign(a.requests[id])
	}
}
