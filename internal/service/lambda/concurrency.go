package lambda

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

func (s *Service) registerConcurrencyOps() {
	awsproto.Handle(s.api, "PutFunctionConcurrency", s.putFunctionConcurrency)
	awsproto.Handle(s.api, "GetFunctionConcurrency", s.getFunctionConcurrency)
	awsproto.Handle(s.api, "DeleteFunctionConcurrency", s.deleteFunctionConcurrency)
	awsproto.Handle(s.api, "GetAccountSettings", s.getAccountSettings)
}

// reservedElsewhere sums the concurrency reserved by the region's other functions.
func reservedElsewhere(q rowQuerier, r funcRef) (int64, error) {
	var sum sql.NullInt64
	err := q.QueryRow(`SELECT SUM(reserved_concurrency) FROM lambda_functions WHERE account = ? AND region = ? AND name <> ?`,
		r.account, r.region, r.name).Scan(&sum)
	if err != nil {
		return 0, fmt.Errorf("sum reserved concurrency: %w", err)
	}
	return sum.Int64, nil
}

func (s *Service) putFunctionConcurrency(ctx context.Context, in *PutFunctionConcurrencyRequest) (*Concurrency, error) {
	r, err := s.unqualified(ctx, in.FunctionName)
	if err != nil {
		return nil, err
	}
	n := awsproto.Value(in.ReservedConcurrentExecutions)
	err = s.write(ctx, func(tx *store.Tx) error {
		row, err := loadFunction(tx, r)
		if err != nil {
			return err
		}
		others, err := reservedElsewhere(tx, r)
		if err != nil {
			return err
		}
		if accountConcurrency-others-int64(n) < minUnreserved {
			return invalidParameter("Specified ReservedConcurrentExecutions for function decreases account's UnreservedConcurrentExecution below its minimum value of [%d].", minUnreserved)
		}
		row.Reserved = ptr(n)
		return saveFunction(tx, r, row)
	})
	if err != nil {
		return nil, err
	}
	s.drain(r)
	return &Concurrency{ReservedConcurrentExecutions: ptr(n)}, nil
}

func (s *Service) getFunctionConcurrency(ctx context.Context, in *GetFunctionConcurrencyRequest) (*GetFunctionConcurrencyResponse, error) {
	r, err := s.unqualified(ctx, in.FunctionName)
	if err != nil {
		return nil, err
	}
	row, err := loadFunction(s.reader(ctx), r)
	if err != nil {
		return nil, err
	}
	return &GetFunctionConcurrencyResponse{ReservedConcurrentExecutions: row.Reserved}, nil
}

func (s *Service) deleteFunctionConcurrency(ctx context.Context, in *DeleteFunctionConcurrencyRequest) (*struct{}, error) {
	r, err := s.unqualified(ctx, in.FunctionName)
	if err != nil {
		return nil, err
	}
	err = s.write(ctx, func(tx *store.Tx) error {
		row, err := loadFunction(tx, r)
		if err != nil {
			return err
		}
		row.Reserved = nil
		return saveFunction(tx, r, row)
	})
	if err != nil {
		return nil, err
	}
	s.drain(r)
	return &struct{}{}, nil
}

func (s *Service) getAccountSettings(ctx context.Context, _ *GetAccountSettingsRequest) (*GetAccountSettingsResponse, error) {
	account, region := callScope(ctx)
	var reserved, codeSize sql.NullInt64
	var count int64
	if err := s.st.QueryRow(ctx, `SELECT COUNT(*), SUM(reserved_concurrency) FROM lambda_functions WHERE account = ? AND region = ?`,
		account, region).Scan(&count, &reserved); err != nil {
		return nil, fmt.Errorf("account settings: %w", err)
	}
	if err := s.st.QueryRow(ctx, `SELECT SUM(code_size) FROM lambda_versions WHERE account = ? AND region = ?`,
		account, region).Scan(&codeSize); err != nil {
		return nil, fmt.Errorf("account settings: %w", err)
	}
	return &GetAccountSettingsResponse{
		AccountLimit: &AccountLimit{
			TotalCodeSize:                  ptr(int64(totalCodeStorage)),
			CodeSizeUnzipped:               ptr(int64(maxUnzipped)),
			CodeSizeZipped:                 ptr(int64(maxZippedDirect)),
			ConcurrentExecutions:           ptr(int32(accountConcurrency)),
			UnreservedConcurrentExecutions: ptr(int32(accountConcurrency - reserved.Int64)),
		},
		AccountUsage: &AccountUsage{FunctionCount: ptr(count), TotalCodeSize: ptr(codeSize.Int64)},
	}, nil
}
