// Package quorum counts votes. It knows nothing of messages, signatures or
// rounds: given a fixed set of voters, it tallies which value each voter
// backed and answers the two questions Byzantine agreement asks — has a value
// (or any value) reached a quorum of 2f+1, and has a round been joined by f+1.
//
// With n voters of equal power, f = ⌊(n−1)/3⌋ may be faulty. A quorum is the
// smallest count larger than two thirds of n, ⌊2n/3⌋+1, which is 2f+1 when
// n = 3f+1; any two quorums then share at least one honest voter.
package quorum

// Faulty is the largest number of Byzantine voters n voters tolerate.
func Faulty(n int) int {
	if n <= 0 {
		return 0
	}
	return (n - 1) / 3
}

// Threshold is the size of a quorum among n voters: more than two thirds.
func Threshold(n int) int { return 2*n/3 + 1 }

// Weak is the smallest count that must include an honest voter: f+1.
func Weak(n int) int { return Faulty(n) + 1 }

// Tally counts one vote per voter for values of type V. A voter's first vote
// counts and later ones are refused: the caller turns a refused, different
// vote into equivocation evidence. Voters outside the set are refused too.
//
// The zero Tally is not usable; call NewTally.
type Tally[V comparable] struct {
	voters    map[string]struct{}
	votes     map[string]V
	counts    map[V]int
	n         int
	total     int
	bestValue V
	best      int
}

// NewTally makes a tally over the given voters. Duplicate names count once.
func NewTally[V comparable](voters []string) *Tally[V] {
	return NewTallyOver[V](VoterSet(voters))
}

// VoterSet builds the set NewTallyOver takes. Duplicate names count once.
func VoterSet(voters []string) map[string]struct{} {
	set := make(map[string]struct{}, len(voters))
	for _, v := range voters {
		set[v] = struct{}{}
	}
	return set
}

// NewTallyOver makes a tally over a voter set built once by VoterSet and
// shared by many tallies (one per round and step): the tally only reads it,
// and the caller must not change it afterwards.
func NewTallyOver[V comparable](voters map[string]struct{}) *Tally[V] {
	return &Tally[V]{
		voters: voters,
		votes:  make(map[string]V, len(voters)),
		counts: make(map[V]int, 2),
		n:      len(voters),
	}
}

// Add records voter's vote for v. It reports false, and changes nothing, when
// the voter is not in the set or has already voted.
func (t *Tally[V]) Add(voter string, v V) bool {
	if _, ok := t.voters[voter]; !ok {
		return false
	}
	if _, ok := t.votes[voter]; ok {
		return false
	}
	t.votes[voter] = v
	t.counts[v]++
	t.total++
	if c := t.counts[v]; c > t.best {
		t.best, t.bestValue = c, v
	}
	return true
}

// Vote returns voter's recorded vote.
func (t *Tally[V]) Vote(voter string) (V, bool) {
	v, ok := t.votes[voter]
	return v, ok
}

// Count is the number of votes for v.
func (t *Tally[V]) Count(v V) int { return t.counts[v] }

// Total is the number of voters who voted, whatever for.
func (t *Tally[V]) Total() int { return t.total }

// Size is the number of voters in the set.
func (t *Tally[V]) Size() int { return t.n }

// HasQuorum reports whether v has 2f+1 votes.
func (t *Tally[V]) HasQuorum(v V) bool { return t.counts[v] >= Threshold(t.n) }

// HasQuorumAny reports whether 2f+1 voters voted, for anything.
func (t *Tally[V]) HasQuorumAny() bool { return t.total >= Threshold(t.n) }

// HasWeakAny reports whether f+1 voters voted, for anything: at least one of
// them is honest.
func (t *Tally[V]) HasWeakAny() bool { return t.total >= Weak(t.n) }

// Leader returns the value with the most votes and whether it has a quorum.
// Only one value can have a quorum.
func (t *Tally[V]) Leader() (V, bool) {
	return t.bestValue, t.best >= Threshold(t.n)
}

// Voters lists who voted for v, in no particular order.
func (t *Tally[V]) Voters(v V) []string {
	var out []string
	for voter, got := range t.votes {
		if got == v {
			out = append(out, voter)
		}
	}
	return out
}
