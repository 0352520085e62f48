package sns

import (
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/store"
)

// cacheLimit bounds the topic and fan-out caches; past it a cache starts over.
const cacheLimit = 10000

// listPageSize is how many topics or subscriptions one List call returns.
const listPageSize = 100

// topicRow is a topic as stored. A loaded row is shared through the cache and never changed.
type topicRow struct {
	ID          int64
	Key         topicKey
	ARN         string
	Fifo        bool
	Created     time.Time
	SubsDeleted int64
	// Attrs are the attributes set on the topic; attributes never set take their defaults.
	Attrs map[string]string
	// policy is the "http" section of the topic's DeliveryPolicy; nil when it has none.
	policy *topicPolicy
}

const topicColumns = "id, account, region, name, created_at, subs_deleted, attrs"

func scanTopic(sc interface{ Scan(...any) error }) (*topicRow, error) {
	var t topicRow
	var created int64
	var attrs string
	if err := sc.Scan(&t.ID, &t.Key.Account, &t.Key.Region, &t.Key.Name, &created, &t.SubsDeleted, &attrs); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(attrs), &t.Attrs); err != nil {
		return nil, fmt.Errorf("topic %s: attributes: %w", t.Key.Name, err)
	}
	t.ARN = t.Key.arn()
	t.Created = time.Unix(0, created)
	t.Fifo = t.Attrs[attrFifoTopic] == "true"
	if dp := t.Attrs[attrDeliveryPolicy]; dp != "" {
		p, err := parseTopicPolicy(dp)
		if err != nil {
			return nil, fmt.Errorf("topic %s: delivery policy: %w", t.Key.Name, err)
		}
		t.policy = p
	}
	return &t, nil
}

const selectTopic = "SELECT " + topicColumns + " FROM sns_topics WHERE account = ? AND region = ? AND name = ?"

// loadTopic returns the topic k names, or nil when there is none.
func (s *Service) loadTopic(ctx context.Context, k topicKey) (*topicRow, error) {
	t, gen, ok := s.topics.Get(k)
	if ok {
		return t, nil
	}
	t, err := scanTopic(s.st.QueryRow(ctx, selectTopic, k.Account, k.Region, k.Name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read topic %s: %w", k.Name, err)
	}
	s.topics.Put(k, t, gen)
	return t, nil
}

// loadTopicInTx reads the topic k names inside a write, or nil when there is none.
func (s *Service) loadTopicInTx(tx *store.Tx, k topicKey) (*topicRow, error) {
	if t, _, ok := s.topics.Get(k); ok {
		return t, nil
	}
	t, err := scanTopic(tx.QueryRow(selectTopic, k.Account, k.Region, k.Name))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read topic %s: %w", k.Name, err)
	}
	return t, nil
}

// callerScope is the account and region a request acts in.
func callerScope(ctx context.Context) (account, region string) { return awsproto.CallFrom(ctx).Scope() }

// callerPrincipal is the ARN of the identity a request acts as, for AuthorizationError.
func callerPrincipal(ctx context.Context) string {
	if c := awsproto.CallFrom(ctx); c != nil && c.PrincipalARN != "" {
		return c.PrincipalARN
	}
	account, _ := callerScope(ctx)
	return "arn:aws:iam::" + account + ":root"
}

// resolveTopicARN checks a request's topic ARN (parameter param, for SNS action) against the
// caller's account and region: a malformed ARN is InvalidParameter, another region's
// "Invalid parameter: TopicArn". Another account's topic is reachable in enforce mode, where
// its policy decides (the call's authorization did); otherwise it is AuthorizationError.
func (s *Service) resolveTopicARN(ctx context.Context, param, v, action string) (topicKey, error) {
	parts := strings.Split(v, ":")
	if len(parts) < 6 {
		return topicKey{}, shortARN(param, v)
	}
	account, region := callerScope(ctx)
	if parts[3] != region {
		return topicKey{}, invalidParameter(param)
	}
	if parts[4] != account && !s.enforcing() {
		return topicKey{}, notAuthorized(callerPrincipal(ctx), strings.TrimPrefix(action, "sns:"), v)
	}
	k, ok := parseTopicARN(v)
	if !ok {
		return topicKey{}, topicNotFound()
	}
	return k, nil
}

// topicFromARN loads the topic a request names; NotFound when there is none.
func (s *Service) topicFromARN(ctx context.Context, param string, v *string, action string) (*topicRow, error) {
	k, err := s.resolveTopicARN(ctx, param, awsproto.Value(v), action)
	if err != nil {
		return nil, err
	}
	t, err := s.loadTopic(ctx, k)
	if err != nil {
		return nil, err
	}
	if t == nil {
		return nil, topicNotFound()
	}
	return t, nil
}

func (s *Service) createTopic(ctx context.Context, in *CreateTopicInput) (*CreateTopicResponse, error) {
	name := awsproto.Value(in.Name)
	fifo := false
	if v, ok := in.Attributes[attrFifoTopic]; ok {
		b, _ := parseBool(v)
		fifo = b == "true"
	}
	if !validTopicName(name, fifo) {
		return nil, invalidParameter("Topic Name")
	}
	if awsproto.Value(in.DataProtectionPolicy) != "" {
		return nil, invalidReason("DataProtectionPolicy", unservedTopicAttributes["DataProtectionPolicy"])
	}
	given := map[string]string{}
	for _, n := range slices.Sorted(maps.Keys(in.Attributes)) {
		v, err := checkTopicAttribute(n, in.Attributes[n], fifo, true)
		if err != nil {
			return nil, err
		}
		given[n] = v
	}
	tags, err := checkTags(in.Tags)
	if err != nil {
		return nil, err
	}
	attrs := map[string]string{}
	for n, v := range given {
		if v != "" && !(n == attrFifoTopic && v == "false") {
			attrs[n] = v
		}
	}
	account, region := callerScope(ctx)
	k := topicKey{Account: account, Region: region, Name: name}
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		existing, err := s.loadTopicInTx(tx, k)
		if err != nil {
			return err
		}
		if existing != nil {
			return sameTopic(tx, existing, given, tags)
		}
		raw, _ := json.Marshal(attrs)
		var id int64
		if err := tx.QueryRow(`INSERT INTO sns_topics (account, region, name, created_at, attrs) VALUES (?, ?, ?, ?, ?) RETURNING id`,
			account, region, name, s.now().UnixNano(), string(raw)).Scan(&id); err != nil {
			return fmt.Errorf("create topic %s: %w", name, err)
		}
		s.topics.Changed(tx, k)
		return putTags(tx, id, tags)
	})
	if err != nil {
		return nil, err
	}
	return &CreateTopicResponse{TopicArn: awsproto.Ptr(k.arn())}, nil
}

// sameTopic answers a CreateTopic of an existing topic: it succeeds only when every attribute
// it gives has the topic's value and every tag it gives is one the topic has.
func sameTopic(tx *store.Tx, t *topicRow, attrs map[string]string, tags map[string]string) error {
	for _, n := range slices.Sorted(maps.Keys(attrs)) {
		if attrs[n] != t.effective(n) {
			return invalidReason("Attributes", "Topic already exists with different attributes")
		}
	}
	if len(tags) == 0 {
		return nil
	}
	have, err := loadTags(tx, t.ID)
	if err != nil {
		return err
	}
	for k, v := range tags {
		if hv, ok := have[k]; !ok || hv != v {
			return invalidReason("Tags", "Topic already exists with different tags")
		}
	}
	return nil
}

func (s *Service) deleteTopic(ctx context.Context, in *DeleteTopicInput) (*struct{}, error) {
	k, err := s.resolveTopicARN(ctx, "TopicArn", awsproto.Value(in.TopicArn), "DeleteTopic")
	if err != nil {
		var ae *awsproto.Error
		if errors.As(err, &ae) && ae.Code == "NotFound" {
			return nil, nil // deleting a topic that does not exist is not an error
		}
		return nil, err
	}
	return nil, s.st.Write(ctx, func(tx *store.Tx) error {
		t, err := s.loadTopicInTx(tx, k)
		if err != nil || t == nil {
			return err
		}
		for _, stmt := range []string{
			"DELETE FROM sns_topics WHERE id = ?",
			"DELETE FROM sns_topic_tags WHERE topic_id = ?",
			"DELETE FROM sns_subscriptions WHERE topic_id = ?",
			"DELETE FROM sns_dedup WHERE topic_id = ?",
		} {
			if _, err := tx.Exec(stmt, t.ID); err != nil {
				return fmt.Errorf("delete topic %s: %w", k.Name, err)
			}
		}
		s.topics.Changed(tx, k)
		s.fanouts.Changed(tx, t.ID)
		return nil
	})
}

func (s *Service) getTopicAttributes(ctx context.Context, in *GetTopicAttributesInput) (*GetTopicAttributesResponse, error) {
	t, err := s.topicFromARN(ctx, "TopicArn", in.TopicArn, "GetTopicAttributes")
	if err != nil {
		return nil, err
	}
	rows, err := s.st.Query(ctx, "SELECT state, COUNT(*) FROM sns_subscriptions WHERE topic_id = ? GROUP BY state", t.ID)
	if err != nil {
		return nil, fmt.Errorf("count subscriptions: %w", err)
	}
	defer rows.Close()
	counts := map[string]int64{}
	for rows.Next() {
		var state string
		var n int64
		if err := rows.Scan(&state, &n); err != nil {
			return nil, err
		}
		counts[state] = n
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	return &GetTopicAttributesResponse{Attributes: t.attributes(counts[stateConfirmed], counts[statePending])}, nil
}

func (s *Service) setTopicAttributes(ctx context.Context, in *SetTopicAttributesInput) (*struct{}, error) {
	t, err := s.topicFromARN(ctx, "TopicArn", in.TopicArn, "SetTopicAttributes")
	if err != nil {
		return nil, err
	}
	name := awsproto.Value(in.AttributeName)
	value, err := checkTopicAttribute(name, awsproto.Value(in.AttributeValue), t.Fifo, false)
	if err != nil {
		return nil, err
	}
	return nil, s.st.Write(ctx, func(tx *store.Tx) error {
		cur, err := s.loadTopicInTx(tx, t.Key)
		if err != nil {
			return err
		}
		if cur == nil || cur.ID != t.ID {
			return topicNotFound()
		}
		attrs := maps.Clone(cur.Attrs)
		if value == "" {
			delete(attrs, name)
		} else {
			attrs[name] = value
		}
		raw, _ := json.Marshal(attrs)
		if _, err := tx.Exec("UPDATE sns_topics SET attrs = ? WHERE id = ?", string(raw), t.ID); err != nil {
			return fmt.Errorf("set topic attributes: %w", err)
		}
		s.topics.Changed(tx, t.Key)
		return nil
	})
}

func (s *Service) listTopics(ctx context.Context, in *ListTopicsInput) (*ListTopicsResponse, error) {
	after := ""
	if tok := awsproto.Value(in.NextToken); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || len(b) == 0 {
			return nil, invalidParameter("NextToken")
		}
		after = string(b)
	}
	account, region := callerScope(ctx)
	rows, err := s.st.Query(ctx, "SELECT name FROM sns_topics WHERE account = ? AND region = ? AND name > ? ORDER BY name LIMIT ?",
		account, region, after, listPageSize+1)
	names, err := store.Strings(rows, err)
	if err != nil {
		return nil, fmt.Errorf("list topics: %w", err)
	}
	out := &ListTopicsResponse{Topics: []Topic{}}
	if len(names) > listPageSize {
		names = names[:listPageSize]
		out.NextToken = awsproto.Ptr(base64.RawURLEncoding.EncodeToString([]byte(names[len(names)-1])))
	}
	for _, n := range names {
		out.Topics = append(out.Topics, Topic{TopicArn: awsproto.Ptr(topicKey{Account: account, Region: region, Name: n}.arn())})
	}
	return out, nil
}
