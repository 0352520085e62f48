package events

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// archiveState is the state of every archive: Kiri archives as events arrive.
const archiveState = "ENABLED"

// archiveRow is an archive as stored.
type archiveRow struct {
	ID          int64
	Account     string
	Region      string
	Name        string
	BusID       int64
	Bus         busKey
	Description string
	Pattern     string
	Retention   int32
	Created     time.Time
}

func (a *archiveRow) arn() string {
	return "arn:aws:events:" + a.Region + ":" + a.Account + ":archive/" + a.Name
}

const archiveColumns = "a.id, a.account, a.region, a.name, a.bus_id, b.account, b.region, b.name, a.description, a.pattern, a.retention, a.created_at"

const archiveFrom = " FROM events_archives a JOIN events_buses b ON b.id = a.bus_id "

func scanArchive(row interface{ Scan(...any) error }) (*archiveRow, error) {
	var a archiveRow
	var created int64
	if err := row.Scan(&a.ID, &a.Account, &a.Region, &a.Name, &a.BusID, &a.Bus.Account, &a.Bus.Region, &a.Bus.Name,
		&a.Description, &a.Pattern, &a.Retention, &created); err != nil {
		return nil, err
	}
	a.Created = time.Unix(0, created)
	return &a, nil
}

func archiveNotFound(name string) *awsproto.Error {
	return awsproto.Errorf("ResourceNotFoundException", 400, "Archive %s does not exist.", name)
}

// mustArchive loads the caller's archive name, or refuses with ResourceNotFoundException.
func mustArchive(ctx context.Context, q querier, name string) (*archiveRow, error) {
	account, region := callerScope(ctx)
	a, err := scanArchive(q.QueryRow("SELECT "+archiveColumns+archiveFrom+"WHERE a.account = ? AND a.region = ? AND a.name = ?", account, region, name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, archiveNotFound(name)
	}
	if err != nil {
		return nil, fmt.Errorf("load archive %s: %w", name, err)
	}
	return a, nil
}

func (s *Service) registerArchiveOps() {
	awsproto.Handle(s.api, "CreateArchive", s.createArchive)
	awsproto.Handle(s.api, "DescribeArchive", s.describeArchive)
	awsproto.Handle(s.api, "ListArchives", s.listArchives)
	awsproto.Handle(s.api, "UpdateArchive", s.updateArchive)
	awsproto.Handle(s.api, "DeleteArchive", s.deleteArchive)
	awsproto.Handle(s.api, "StartReplay", s.startReplay)
	awsproto.Handle(s.api, "DescribeReplay", s.describeReplay)
	awsproto.Handle(s.api, "ListReplays", s.listReplays)
	awsproto.Handle(s.api, "CancelReplay", s.cancelReplay)
}

func checkArchiveOptions(pattern *string, retention *int32, kms *string) error {
	if awsproto.Value(kms) != "" {
		return validation("KmsKeyIdentifier is not supported by Kiri: events are stored with the data directory's protection.")
	}
	if pattern != nil {
		if _, err := compilePattern(*pattern); err != nil {
			return err
		}
	}
	if retention != nil && *retention < 0 {
		return validation("1 validation error detected: Value '%d' at 'retentionDays' failed to satisfy constraint: Member must have value greater than or equal to 0", *retention)
	}
	return nil
}

func (s *Service) createArchive(ctx context.Context, in *CreateArchiveRequest) (*CreateArchiveResponse, error) {
	account, region := callerScope(ctx)
	name := awsproto.Value(in.ArchiveName)
	if !validName(name, 48, false) {
		return nil, validation("1 validation error detected: Value '%s' at 'archiveName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\\.\\-_A-Za-z0-9]+", name)
	}
	if err := checkArchiveOptions(in.EventPattern, in.RetentionDays, in.KmsKeyIdentifier); err != nil {
		return nil, err
	}
	src := awsproto.Value(in.EventSourceArn)
	k, ok := parseBusARN(src)
	if !ok {
		return nil, validation("Parameter %s is not valid. Reason: Provided Arn is not in correct format.", src)
	}
	if k.Account != account || k.Region != region {
		return nil, busNotFound(k.Name)
	}
	now := s.now()
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		b, err := s.storedBus(tx, k)
		if err != nil {
			return err
		}
		var n int
		if err := tx.QueryRow("SELECT COUNT(*) FROM events_archives WHERE account = ? AND region = ? AND name = ?", account, region, name).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return awsproto.Errorf("ResourceAlreadyExistsException", 400, "Archive %s already exists.", name)
		}
		if _, err := tx.Exec("INSERT INTO events_archives (account, region, name, bus_id, description, pattern, retention, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
			account, region, name, b.ID, awsproto.Value(in.Description), awsproto.Value(in.EventPattern), awsproto.Value(in.RetentionDays), now.UnixNano()); err != nil {
			return fmt.Errorf("create archive: %w", err)
		}
		return changed(tx, b.ID)
	})
	if err != nil {
		return nil, err
	}
	a := archiveRow{Account: account, Region: region, Name: name}
	return &CreateArchiveResponse{ArchiveArn: awsproto.Ptr(a.arn()), State: awsproto.Ptr(archiveState), CreationTime: &now}, nil
}

// archiveStats are the count and size of an archive's events.
func archiveStats(q querier, id int64) (count, size int64, err error) {
	err = q.QueryRow("SELECT COUNT(*), COALESCE(SUM(LENGTH(event)), 0) FROM events_archived WHERE archive_id = ?", id).Scan(&count, &size)
	return count, size, err
}

func (s *Service) describeArchive(ctx context.Context, in *DescribeArchiveRequest) (*DescribeArchiveResponse, error) {
	q := s.reader(ctx)
	a, err := mustArchive(ctx, q, awsproto.Value(in.ArchiveName))
	if err != nil {
		return nil, err
	}
	count, size, err := archiveStats(q, a.ID)
	if err != nil {
		return nil, err
	}
	out := &DescribeArchiveResponse{ArchiveArn: awsproto.Ptr(a.arn()), ArchiveName: &a.Name, EventSourceArn: awsproto.Ptr(a.Bus.arn()),
		State: awsproto.Ptr(archiveState), RetentionDays: &a.Retention, EventCount: &count, SizeBytes: &size, CreationTime: &a.Created}
	if a.Description != "" {
		out.Description = &a.Description
	}
	if a.Pattern != "" {
		out.EventPattern = &a.Pattern
	}
	return out, nil
}

func (s *Service) listArchives(ctx context.Context, in *ListArchivesRequest) (*ListArchivesResponse, error) {
	account, region := callerScope(ctx)
	after, err := decodeToken(in.NextToken, "archives")
	if err != nil {
		return nil, err
	}
	if st := awsproto.Value(in.State); st != "" && st != archiveState {
		return &ListArchivesResponse{Archives: []Archive{}}, nil
	}
	limit := pageSize(in.Limit, 100)
	q := s.reader(ctx)
	rows, err := q.Query("SELECT "+archiveColumns+archiveFrom+"WHERE a.account = ? AND a.region = ? AND a.name > ? ORDER BY a.name", account, region, after)
	if err != nil {
		return nil, err
	}
	var all []*archiveRow
	for rows.Next() {
		a, err := scanArchive(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		all = append(all, a)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := &ListArchivesResponse{Archives: []Archive{}}
	for _, a := range all {
		if !strings.HasPrefix(a.Name, awsproto.Value(in.NamePrefix)) || (in.EventSourceArn != nil && *in.EventSourceArn != a.Bus.arn()) {
			continue
		}
		if len(out.Archives) == limit {
			out.NextToken = encodeToken("archives", *out.Archives[limit-1].ArchiveName)
			break
		}
		count, size, err := archiveStats(q, a.ID)
		if err != nil {
			return nil, err
		}
		out.Archives = append(out.Archives, Archive{ArchiveName: awsproto.Ptr(a.Name), EventSourceArn: awsproto.Ptr(a.Bus.arn()),
			State: awsproto.Ptr(archiveState), RetentionDays: awsproto.Ptr(a.Retention), EventCount: &count, SizeBytes: &size,
			CreationTime: awsproto.Ptr(a.Created)})
	}
	return out, nil
}

func (s *Service) updateArchive(ctx context.Context, in *UpdateArchiveRequest) (*UpdateArchiveResponse, error) {
	if err := checkArchiveOptions(in.EventPattern, in.RetentionDays, in.KmsKeyIdentifier); err != nil {
		return nil, err
	}
	var a *archiveRow
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		var err error
		if a, err = mustArchive(ctx, tx, awsproto.Value(in.ArchiveName)); err != nil {
			return err
		}
		if in.Description != nil {
			a.Description = *in.Description
		}
		if in.EventPattern != nil {
			a.Pattern = *in.EventPattern
		}
		if in.RetentionDays != nil {
			a.Retention = *in.RetentionDays
		}
		if _, err := tx.Exec("UPDATE events_archives SET description = ?, pattern = ?, retention = ? WHERE id = ?", a.Description, a.Pattern, a.Retention, a.ID); err != nil {
			return err
		}
		return changed(tx, a.BusID)
	})
	if err != nil {
		return nil, err
	}
	return &UpdateArchiveResponse{ArchiveArn: awsproto.Ptr(a.arn()), State: awsproto.Ptr(archiveState), CreationTime: &a.Created}, nil
}

func (s *Service) deleteArchive(ctx context.Context, in *DeleteArchiveRequest) (*struct{}, error) {
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		a, err := mustArchive(ctx, tx, awsproto.Value(in.ArchiveName))
		if err != nil {
			return err
		}
		for _, q := range []string{"DELETE FROM events_archived WHERE archive_id = ?", "DELETE FROM events_archives WHERE id = ?"} {
			if _, err := tx.Exec(q, a.ID); err != nil {
				return fmt.Errorf("delete archive: %w", err)
			}
		}
		return changed(tx, a.BusID)
	})
	return &struct{}{}, err
}

// archiveRetentionInterval paces the sweep of archived events past their archive's retention.
const archiveRetentionInterval = time.Hour

// sweepArchives drops archived events older than their archive's retention (0 keeps them).
func (s *Service) sweepArchives(ctx context.Context) error {
	now := s.now().UnixNano()
	return s.st.Write(ctx, func(tx *store.Tx) error {
		_, err := tx.Exec(`DELETE FROM events_archived WHERE archive_id IN (SELECT id FROM events_archives WHERE retention > 0)
			AND ingested_at < ? - (SELECT retention FROM events_archives a WHERE a.id = events_archived.archive_id) * ?`, now, int64(24*time.Hour))
		return err
	})
}
