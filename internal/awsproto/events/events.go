// Package events holds the type of output event streams, apart from the codec so that generated
// API types can name it without importing the codec.
package events

// Stream produces an output event stream (a payload member whose shape has the eventstream
// trait). The codec writes the response status and headers, then calls the function, which
// sends events until it returns. Each event is framed in the binary
// application/vnd.amazon.eventstream encoding and flushed to the client at once.
type Stream func(send Sender) error

// Sender sends one event: a pointer to the generated struct of one of the stream's event shapes
// (for Lambda, *InvokeResponseStreamUpdate or *InvokeWithResponseStreamCompleteEvent).
type Sender func(event any) error
