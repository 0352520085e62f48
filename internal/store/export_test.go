package store

// QueuedWrites reports how many writes wait for the writer, so tests can batch on purpose.
func QueuedWrites(s *Store) int { return len(s.queue) }
