package sqs

import (
	"encoding/base64"
	"encoding/binary"

	"github.com/kiri-run/kiri/internal/queue"
)

// receiptVersion leads every receipt handle.
const receiptVersion = 1

// maxReceiptHandle bounds what decodeReceipt reads.
const maxReceiptHandle = 1024

// encodeReceipt makes the receipt handle of an engine lease on the queue with id: URL-safe
// base64 of a version byte, the queue id and the message id as uvarints, and the lease's token.
// The token is the engine's random lease token, so a handle cannot be guessed; the queue id
// lets a handle of another queue be refused.
func encodeReceipt(queueID int64, r queue.Receipt) string {
	b := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(r.Token))
	b = append(b, receiptVersion)
	b = binary.AppendUvarint(b, uint64(queueID))
	b = binary.AppendUvarint(b, uint64(r.ID))
	b = append(b, r.Token...)
	return base64.RawURLEncoding.EncodeToString(b)
}

// decodeReceipt reads a receipt handle; ok is false for anything encodeReceipt could not have
// written.
func decodeReceipt(h string) (queueID int64, r queue.Receipt, ok bool) {
	if len(h) == 0 || len(h) > maxReceiptHandle {
		return 0, queue.Receipt{}, false
	}
	b, err := base64.RawURLEncoding.DecodeString(h)
	if err != nil || len(b) < 4 || b[0] != receiptVersion {
		return 0, queue.Receipt{}, false
	}
	b = b[1:]
	q, n := binary.Uvarint(b)
	if n <= 0 || q == 0 || q > 1<<62 {
		return 0, queue.Receipt{}, false
	}
	b = b[n:]
	id, n := binary.Uvarint(b)
	if n <= 0 || id == 0 || id > 1<<62 {
		return 0, queue.Receipt{}, false
	}
	token := b[n:]
	if len(token) == 0 {
		return 0, queue.Receipt{}, false
	}
	for _, c := range token {
		if !isNameByte(c) || c == '_' {
			return 0, queue.Receipt{}, false
		}
	}
	return int64(q), queue.Receipt{ID: int64(id), Token: string(token)}, true
}
