package store

import (
	"fmt"

	bolt "go.etcd.io/bbolt"
)

// PutBatch appends messages (their Seq is ignored) in one transaction, so a
// burst costs one fsync instead of one per message, and returns their
// sequence numbers, in order, once they are durable. Either all of them are
// stored or none is. It fails with ErrOutboxFull when they would not all fit
// under Options.OutboxLimit.
func (o *Outbox) PutBatch(msgs []Outbound) ([]uint64, error) {
	if len(msgs) == 0 {
		return nil, o.s.usable()
	}
	s := o.s
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.outboxLen+len(msgs) > s.opts.OutboxLimit {
		return nil, fmt.Errorf("%w: %d messages wait, %d more do not fit", ErrOutboxFull, s.outboxLen, len(msgs))
	}
	seqs := make([]uint64, len(msgs))
	err := s.update(func(tx *bolt.Tx) error {
		b := tx.Bucket(bucketOutbox)
		for i, m := range msgs {
			seq, err := b.NextSequence()
			if err != nil {
				return err
			}
			k := u64Key(seq)
			if err := b.Put(k, seal(bucketOutbox, k, encodeOutbound(m.Topic, m.Payload))); err != nil {
				return err
			}
			seqs[i] = seq
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.outboxLen += len(msgs)
	return seqs, nil
}
