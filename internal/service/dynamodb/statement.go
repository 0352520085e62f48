package dynamodb

import "github.com/kiri-run/kiri/internal/awsproto"

func (s *Service) registerStatementOps() {
	awsproto.Handle(s.api, "ExecuteStatement", s.executeStatement)
	awsproto.Handle(s.api, "BatchExecuteStatement", s.batchExecuteStatement)
	awsproto.Handle(s.api, "ExecuteTransaction", s.executeTransaction)
}
