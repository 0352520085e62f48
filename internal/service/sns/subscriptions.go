package sns

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/pattern"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/uuid"
)

// Subscription states.
const (
	statePending      = "pending"
	stateConfirmed    = "confirmed"
	stateUnsubscribed = "unsubscribed"
)

// tokenLifetime is how long a confirmation token works: Subscribe's and Unsubscribe's tokens
// are valid for two days, after which a pending subscription, or an unsubscribed one that a
// token could restore, is removed.
const tokenLifetime = 48 * time.Hour

// pendingARN is what Subscribe and the List operations show for a subscription not confirmed yet.
const pendingARN = "pending confirmation"

// listedPendingARN is the SubscriptionArn the List operations show for a pending subscription.
const listedPendingARN = "PendingConfirmation"

// subRow is a subscription as stored, with what deliveries derive from it.
type subRow struct {
	ID              int64
	ARN             string
	TopicID         int64
	Account, Region string
	Protocol        string
	Endpoint        string
	State           string
	Token           string
	TokenUntil      time.Time
	Authenticated   bool
	AuthUnsubscribe bool
	Principal       string
	Attrs           map[string]string

	filter     *pattern.FilterPolicy
	raw        bool
	deadLetter string
	policy     *subscriptionPolicy
}

// topicARN is the ARN of the subscription's topic.
func (s *subRow) topicARN() string { return s.ARN[:strings.LastIndexByte(s.ARN, ':')] }

const subColumns = "id, arn, topic_id, account, region, protocol, endpoint, state, token, token_until, authenticated, auth_unsubscribe, principal, attrs"

func scanSub(sc interface{ Scan(...any) error }) (*subRow, error) {
	var r subRow
	var until int64
	var authenticated, authUnsub int
	var attrs string
	if err := sc.Scan(&r.ID, &r.ARN, &r.TopicID, &r.Account, &r.Region, &r.Protocol, &r.Endpoint, &r.State, &r.Token,
		&until, &authenticated, &authUnsub, &r.Principal, &attrs); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(attrs), &r.Attrs); err != nil {
		return nil, fmt.Errorf("subscription %s: attributes: %w", r.ARN, err)
	}
	r.TokenUntil = time.Unix(0, until)
	r.Authenticated, r.AuthUnsubscribe = authenticated != 0, authUnsub != 0
	var err error
	if r.filter, err = compileFilter(r.Attrs); err != nil {
		return nil, fmt.Errorf("subscription %s: filter policy: %w", r.ARN, err)
	}
	r.raw = r.Attrs[attrRawMessageDelivery] == "true"
	if rp := r.Attrs[attrRedrivePolicy]; rp != "" {
		r.deadLetter, _ = parseRedrivePolicy(rp)
	}
	if dp := r.Attrs[attrDeliveryPolicy]; dp != "" {
		if r.policy, err = parseSubscriptionPolicy(dp); err != nil {
			return nil, fmt.Errorf("subscription %s: delivery policy: %w", r.ARN, err)
		}
	}
	return &r, nil
}

// querier is a store read or a write transaction.
type querier interface {
	QueryRow(query string, args ...any) *sql.Row
}

// storeReader reads the store outside a write.
type storeReader struct {
	ctx context.Context
	st  *store.Store
}

func (r storeReader) QueryRow(query string, args ...any) *sql.Row {
	return r.st.QueryRow(r.ctx, query, args...)
}

// loadSub returns the subscription arn names, or nil when there is none.
func loadSub(q querier, arn string) (*subRow, error) {
	r, err := scanSub(q.QueryRow("SELECT "+subColumns+" FROM sns_subscriptions WHERE arn = ?", arn))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read subscription: %w", err)
	}
	return r, nil
}

// fanout is a topic's confirmed subscriptions, in subscription order.
type fanout struct{ subs []*subRow }

// fanout returns the confirmed subscriptions of a topic.
func (s *Service) fanout(ctx context.Context, t *topicRow) (*fanout, error) {
	f, gen, ok := s.fanouts.Get(t.ID)
	if ok {
		return f, nil
	}
	rows, err := s.st.Query(ctx, "SELECT "+subColumns+" FROM sns_subscriptions WHERE topic_id = ? AND state = ? ORDER BY id", t.ID, stateConfirmed)
	if err != nil {
		return nil, fmt.Errorf("read subscriptions of %s: %w", t.ARN, err)
	}
	defer rows.Close()
	f = &fanout{}
	for rows.Next() {
		r, err := scanSub(rows)
		if err != nil {
			return nil, err
		}
		f.subs = append(f.subs, r)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	s.fanouts.Put(t.ID, f, gen)
	return f, nil
}

// newToken returns a confirmation token: 288 hex digits, as SNS's are.
func newToken() string {
	var b [144]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// wellFormedToken reports whether a token could be one SNS issued.
func wellFormedToken(t string) bool {
	if t == "" {
		return false
	}
	_, err := hex.DecodeString(t)
	return err == nil
}

// checkEndpoint refuses an endpoint Kiri cannot deliver to for protocol, in SNS's words where
// SNS refuses it too.
func (s *Service) checkEndpoint(ctx context.Context, t *topicRow, protocol, endpoint string) error {
	refused := func(reason string) error { return invalidReason("Protocol", reason) }
	switch protocol {
	case "sqs", "lambda", "http", "https":
	case "email", "email-json", "sms", "application", "firehose":
		return refused("Kiri does not deliver to " + protocol + " endpoints; it delivers to sqs, lambda, http and https endpoints.")
	default:
		return invalidParameter("Amazon SNS does not support this protocol string: " + protocol)
	}
	if endpoint == "" {
		return invalidReason("Endpoint", "no value for required parameter")
	}
	if t.Fifo && protocol != "sqs" {
		return refused("FIFO topics deliver only to Amazon SQS queues.")
	}
	var account string
	switch protocol {
	case "sqs":
		a, _, fifo, ok := queueARN(endpoint)
		switch {
		case !ok:
			return invalidParameter("SQS endpoint ARN")
		case fifo && !t.Fifo:
			return invalidParameter("Invalid parameter: Endpoint Reason: FIFO SQS Queues can not be subscribed to standard SNS topics")
		}
		// A FIFO topic delivers to standard queues too, without their order.
		account = a
	case "lambda":
		a, _, ok := functionARN(endpoint)
		if !ok {
			return invalidParameter("Lambda endpoint ARN")
		}
		account = a
	default:
		u, err := url.Parse(endpoint)
		if !strings.HasPrefix(endpoint, protocol+"://") || err != nil {
			return invalidParameter("Endpoint must match the specified protocol")
		}
		if u.Host == "" {
			return invalidReason("Endpoint", "the URL has no host")
		}
		return nil
	}
	// An endpoint of another account than the topic's needs its owner's consent: in enforce
	// mode the caller's own endpoint has it (its policy then decides each delivery, as on AWS);
	// one of a third account would need a confirmation from its owner, which Kiri does not ask.
	caller, _ := callerScope(ctx)
	if account != t.Key.Account && !(s.enforcing() && account == caller) {
		return invalidReason("Endpoint", "Kiri delivers only to endpoints of the topic's account.")
	}
	if !s.targets.Delivers(endpoint) {
		return invalidReason("Endpoint", "no service delivers to it.")
	}
	return nil
}

func (s *Service) subscribe(ctx context.Context, in *SubscribeInput) (*SubscribeResponse, error) {
	t, err := s.topicFromARN(ctx, "TopicArn", in.TopicArn, "Subscribe")
	if err != nil {
		return nil, err
	}
	protocol, endpoint := awsproto.Value(in.Protocol), awsproto.Value(in.Endpoint)
	if err := s.checkEndpoint(ctx, t, protocol, endpoint); err != nil {
		return nil, err
	}
	target := subTarget{Protocol: protocol, Endpoint: endpoint, Account: t.Key.Account, Region: t.Key.Region, Fifo: t.Fifo}
	attrs, err := applySubAttributes(nil, in.Attributes, target, true)
	if err != nil {
		return nil, err
	}
	confirmed := protocol == "sqs" || protocol == "lambda"
	var arn string
	pending := false
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		existing, err := scanSub(tx.QueryRow("SELECT "+subColumns+` FROM sns_subscriptions
			WHERE topic_id = ? AND protocol = ? AND endpoint = ? AND state <> ?`, t.ID, protocol, endpoint, stateUnsubscribed))
		switch {
		case err == nil:
			if !sameSubAttributes(existing.Attrs, attrs, slices.Collect(maps.Keys(in.Attributes))) {
				return invalidReason("Attributes", "Subscription already exists with different attributes")
			}
			arn, pending = existing.ARN, existing.State == statePending
			return nil
		case !errors.Is(err, sql.ErrNoRows):
			return err
		}
		now := s.now()
		arn = t.ARN + ":" + uuid.New()
		state, token, until := stateConfirmed, "", int64(0)
		if !confirmed {
			state, token, until = statePending, newToken(), now.Add(tokenLifetime).UnixNano()
		}
		raw, _ := json.Marshal(attrs)
		if _, err := tx.Exec(`INSERT INTO sns_subscriptions (arn, topic_id, account, region, protocol, endpoint, state, token,
			token_until, authenticated, principal, attrs, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			arn, t.ID, t.Key.Account, t.Key.Region, protocol, endpoint, state, token, until, boolInt(confirmed),
			callerPrincipal(ctx), string(raw), now.UnixNano()); err != nil {
			return fmt.Errorf("subscribe: %w", err)
		}
		if confirmed {
			s.fanouts.Changed(tx, t.ID)
			return nil
		}
		pending = true
		return s.sendConfirmation(ctx, tx, t, arn, endpoint, token, typeSubscriptionConfirmation)
	})
	if err != nil {
		return nil, err
	}
	if pending && !awsproto.Value(in.ReturnSubscriptionArn) {
		arn = pendingARN
	}
	return &SubscribeResponse{SubscriptionArn: awsproto.Ptr(arn)}, nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// unsignedKey marks the context of a request that came through a SubscribeURL or
// UnsubscribeURL without an AWS signature.
type unsignedKey struct{}

// unsigned reports whether the request came unsigned through a SubscribeURL or UnsubscribeURL.
func unsigned(ctx context.Context) bool { v, _ := ctx.Value(unsignedKey{}).(bool); return v }

func (s *Service) confirmSubscription(ctx context.Context, in *ConfirmSubscriptionInput) (*ConfirmSubscriptionResponse, error) {
	topicARN, token := awsproto.Value(in.TopicArn), awsproto.Value(in.Token)
	k, ok := parseTopicARN(topicARN)
	if !ok {
		return nil, invalidParameter("Topic")
	}
	if _, region := callerScope(ctx); !unsigned(ctx) && region != k.Region {
		return nil, invalidParameter("Topic")
	}
	if !wellFormedToken(token) {
		return nil, awsproto.Errorf("InvalidParameter", 400, "Invalid token")
	}
	authUnsub := false
	if !unsigned(ctx) {
		b, _ := parseBool(awsproto.Value(in.AuthenticateOnUnsubscribe))
		authUnsub = b == "true"
	}
	var arn string
	err := s.st.Write(ctx, func(tx *store.Tx) error {
		t, err := s.loadTopicInTx(tx, k)
		if err != nil {
			return err
		}
		r, err := scanSub(tx.QueryRow("SELECT "+subColumns+" FROM sns_subscriptions WHERE token = ?", token))
		if errors.Is(err, sql.ErrNoRows) || err == nil && (t == nil || r.TopicID != t.ID || !s.now().Before(r.TokenUntil)) {
			return invalidParameter("Token")
		}
		if err != nil {
			return err
		}
		arn = r.ARN
		if r.State == stateConfirmed {
			return nil // confirming again changes nothing
		}
		if _, err := tx.Exec("UPDATE sns_subscriptions SET state = ?, authenticated = ?, auth_unsubscribe = ? WHERE id = ?",
			stateConfirmed, boolInt(!unsigned(ctx)), boolInt(authUnsub), r.ID); err != nil {
			return fmt.Errorf("confirm subscription: %w", err)
		}
		s.fanouts.Changed(tx, t.ID)
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &ConfirmSubscriptionResponse{SubscriptionArn: awsproto.Ptr(arn)}, nil
}

// subscriptionARNKey checks a request's subscription ARN and returns the key of its topic.
func subscriptionARNKey(v string) (topicKey, error) {
	switch n := len(strings.Split(v, ":")); {
	case n < 6:
		return topicKey{}, shortARN("SubscriptionArn", v)
	case n == 6:
		return topicKey{}, invalidParameter("SubscriptionId")
	}
	k, _ := parseSubscriptionARN(v)
	return k, nil
}

func (s *Service) unsubscribe(ctx context.Context, in *UnsubscribeInput) (*struct{}, error) {
	a := awsproto.Value(in.SubscriptionArn)
	k, err := subscriptionARNKey(a)
	if err != nil {
		return nil, err
	}
	if account, _ := callerScope(ctx); !unsigned(ctx) && k.Account != "" && k.Account != account {
		return nil, notAuthorized(callerPrincipal(ctx), "Unsubscribe", a)
	}
	return nil, s.st.Write(ctx, func(tx *store.Tx) error {
		r, err := loadSub(tx, a)
		if err != nil || r == nil || r.State == stateUnsubscribed {
			return err // unsubscribing what is not subscribed changes nothing
		}
		if unsigned(ctx) && r.AuthUnsubscribe {
			return awsproto.Errorf("AuthorizationError", 403, "Unsubscribing from %s requires an AWS signature.", a)
		}
		if r.State == stateConfirmed && (r.Protocol == "http" || r.Protocol == "https") {
			// The endpoint is told, with a token that restores the subscription.
			token := newToken()
			if _, err := tx.Exec("UPDATE sns_subscriptions SET state = ?, token = ?, token_until = ? WHERE id = ?",
				stateUnsubscribed, token, s.now().Add(tokenLifetime).UnixNano(), r.ID); err != nil {
				return fmt.Errorf("unsubscribe: %w", err)
			}
			t, err := s.loadTopicInTx(tx, k)
			if err != nil {
				return err
			}
			if t != nil {
				if err := s.sendConfirmation(ctx, tx, t, a, r.Endpoint, token, typeUnsubscribeConfirmation); err != nil {
					return err
				}
			}
		} else if _, err := tx.Exec("DELETE FROM sns_subscriptions WHERE id = ?", r.ID); err != nil {
			return fmt.Errorf("unsubscribe: %w", err)
		}
		if _, err := tx.Exec("UPDATE sns_topics SET subs_deleted = subs_deleted + 1 WHERE id = ?", r.TopicID); err != nil {
			return fmt.Errorf("unsubscribe: %w", err)
		}
		s.topics.Changed(tx, k)
		s.fanouts.Changed(tx, r.TopicID)
		return nil
	})
}

// subFromARN loads the subscription a request names, in the caller's account.
func (s *Service) subFromARN(ctx context.Context, v *string) (*subRow, error) {
	a := awsproto.Value(v)
	if n := len(strings.Split(a, ":")); n < 6 {
		return nil, shortARN("SubscriptionArn", a)
	}
	account, region := callerScope(ctx)
	r, err := loadSub(storeReader{ctx, s.st}, a)
	if err != nil {
		return nil, err
	}
	if r == nil || r.State == stateUnsubscribed || r.Account != account || r.Region != region {
		return nil, subscriptionNotFound()
	}
	return r, nil
}

func (s *Service) getSubscriptionAttributes(ctx context.Context, in *GetSubscriptionAttributesInput) (*GetSubscriptionAttributesResponse, error) {
	r, err := s.subFromARN(ctx, in.SubscriptionArn)
	if err != nil {
		return nil, err
	}
	out := map[string]string{
		"ConfirmationWasAuthenticated": strconv.FormatBool(r.Authenticated),
		"Endpoint":                     r.Endpoint,
		"Owner":                        r.Account,
		"PendingConfirmation":          strconv.FormatBool(r.State == statePending),
		"Protocol":                     r.Protocol,
		attrRawMessageDelivery:         subAttribute(r.Attrs, attrRawMessageDelivery),
		"SubscriptionArn":              r.ARN,
		"SubscriptionPrincipal":        r.Principal,
		"TopicArn":                     r.topicARN(),
	}
	for _, n := range []string{attrDeliveryPolicy, attrFilterPolicy, attrRedrivePolicy} {
		if v := r.Attrs[n]; v != "" {
			out[n] = v
		}
	}
	if r.Attrs[attrFilterPolicy] != "" {
		out[attrFilterPolicyScope] = subAttribute(r.Attrs, attrFilterPolicyScope)
	}
	if r.Protocol == "http" || r.Protocol == "https" {
		k, _ := parseSubscriptionARN(r.ARN)
		t, err := s.loadTopic(ctx, k)
		if err != nil {
			return nil, err
		}
		var tp *topicPolicy
		if t != nil {
			tp = t.policy
		}
		out["EffectiveDeliveryPolicy"] = effectiveSubscriptionPolicy(effectivePolicy(tp, r.policy))
	}
	return &GetSubscriptionAttributesResponse{Attributes: out}, nil
}

func (s *Service) setSubscriptionAttributes(ctx context.Context, in *SetSubscriptionAttributesInput) (*struct{}, error) {
	r, err := s.subFromARN(ctx, in.SubscriptionArn)
	if err != nil {
		return nil, err
	}
	target := subTarget{Protocol: r.Protocol, Endpoint: r.Endpoint, Account: r.Account, Region: r.Region, Fifo: strings.HasSuffix(r.topicARN(), fifoSuffix)}
	name := awsproto.Value(in.AttributeName)
	return nil, s.st.Write(ctx, func(tx *store.Tx) error {
		cur, err := loadSub(tx, r.ARN)
		if err != nil {
			return err
		}
		if cur == nil || cur.State == stateUnsubscribed {
			return subscriptionNotFound()
		}
		attrs, err := applySubAttributes(cur.Attrs, map[string]string{name: awsproto.Value(in.AttributeValue)}, target, false)
		if err != nil {
			return err
		}
		raw, _ := json.Marshal(attrs)
		if _, err := tx.Exec("UPDATE sns_subscriptions SET attrs = ? WHERE id = ?", string(raw), cur.ID); err != nil {
			return fmt.Errorf("set subscription attributes: %w", err)
		}
		s.fanouts.Changed(tx, cur.TopicID)
		return nil
	})
}

func (s *Service) listSubscriptions(ctx context.Context, in *ListSubscriptionsInput) (*ListSubscriptionsResponse, error) {
	account, region := callerScope(ctx)
	subs, next, err := s.listSubs(ctx, in.NextToken, "account = ? AND region = ?", account, region)
	if err != nil {
		return nil, err
	}
	return &ListSubscriptionsResponse{Subscriptions: subs, NextToken: next}, nil
}

func (s *Service) listSubscriptionsByTopic(ctx context.Context, in *ListSubscriptionsByTopicInput) (*ListSubscriptionsByTopicResponse, error) {
	t, err := s.topicFromARN(ctx, "TopicArn", in.TopicArn, "ListSubscriptionsByTopic")
	if err != nil {
		return nil, err
	}
	subs, next, err := s.listSubs(ctx, in.NextToken, "topic_id = ?", t.ID)
	if err != nil {
		return nil, err
	}
	return &ListSubscriptionsByTopicResponse{Subscriptions: subs, NextToken: next}, nil
}

// listSubs reads a page of the subscriptions a condition selects, in subscription order.
func (s *Service) listSubs(ctx context.Context, token *string, where string, args ...any) ([]Subscription, *string, error) {
	var after int64
	if tok := awsproto.Value(token); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err == nil {
			after, err = strconv.ParseInt(string(b), 10, 64)
		}
		if err != nil {
			return nil, nil, invalidParameter("NextToken")
		}
	}
	rows, err := s.st.Query(ctx, "SELECT id, arn, protocol, endpoint, account, state FROM sns_subscriptions WHERE "+where+
		" AND state <> ? AND id > ? ORDER BY id LIMIT ?", append(args, stateUnsubscribed, after, listPageSize+1)...)
	if err != nil {
		return nil, nil, fmt.Errorf("list subscriptions: %w", err)
	}
	defer rows.Close()
	out := []Subscription{}
	var last int64
	var next *string
	for rows.Next() {
		var id int64
		var arn, protocol, endpoint, owner, state string
		if err := rows.Scan(&id, &arn, &protocol, &endpoint, &owner, &state); err != nil {
			return nil, nil, err
		}
		if len(out) == listPageSize {
			next = awsproto.Ptr(base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(last, 10))))
			break
		}
		last = id
		topic := arn[:strings.LastIndexByte(arn, ':')]
		if state == statePending {
			arn = listedPendingARN
		}
		out = append(out, Subscription{SubscriptionArn: awsproto.Ptr(arn), Owner: awsproto.Ptr(owner), Protocol: awsproto.Ptr(protocol),
			Endpoint: awsproto.Ptr(endpoint), TopicArn: awsproto.Ptr(topic)})
	}
	return out, next, rows.Err()
}
