package dynamodb

import (
	"context"

	"github.com/kiri-run/kiri/internal/iam/authz"
)

func (s *Service) executeStatement(ctx context.Context, in *ExecuteStatementInput) (*ExecuteStatementOutput, error) {
	return nil, validation("Kiri does not run PartiQL statements yet")
}
func (s *Service) batchExecuteStatement(ctx context.Context, in *BatchExecuteStatementInput) (*BatchExecuteStatementOutput, error) {
	return nil, validation("Kiri does not run PartiQL statements yet")
}
func (s *Service) executeTransaction(ctx context.Context, in *ExecuteTransactionInput) (*ExecuteTransactionOutput, error) {
	return nil, validation("Kiri does not run PartiQL statements yet")
}
func (s *Service) statementRequests(ctx context.Context, stmts []string) ([]authz.Request, error) {
	return nil, nil
}
