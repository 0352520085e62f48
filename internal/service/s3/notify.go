package s3

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/dispatch"
	"github.com/kiri-run/kiri/internal/queue"
	"github.com/kiri-run/kiri/internal/store"
	"github.com/kiri-run/kiri/internal/telemetry"
)

// notifySource is the source of b's events, as a destination's resource policy sees S3's
// deliveries: the bucket's ARN (aws:SourceArn) and owner (aws:SourceAccount).
func notifySource(b bucket) dispatch.Source {
	return dispatch.Source{Principal: s3Principal, ARN: "arn:aws:s3:::" + b.Name, Account: b.Account, Region: b.Region}
}

// s3Principal is the service principal S3 delivers event notifications as.
const s3Principal = "s3.amazonaws.com"

// topicNotification is the queue of event notifications stored by versions of Kiri that
// delivered them themselves; they are handed to the target registry.
const topicNotification = "s3.notification"

// eventBridgeDestination stands for the account's default event bus, which receives every
// event of a bucket whose configuration has an EventBridgeConfiguration.
const eventBridgeDestination = "eventbridge"

// notificationEvents are the event types S3 accepts in a notification configuration.
var notificationEvents = map[string]bool{
	"s3:ReducedRedundancyLostObject": true, "s3:ObjectCreated:*": true, "s3:ObjectCreated:Put": true,
	"s3:ObjectCreated:Post": true, "s3:ObjectCreated:Copy": true, "s3:ObjectCreated:CompleteMultipartUpload": true,
	"s3:ObjectRemoved:*": true, "s3:ObjectRemoved:Delete": true, "s3:ObjectRemoved:DeleteMarkerCreated": true,
	"s3:ObjectRestore:*": true, "s3:ObjectRestore:Post": true, "s3:ObjectRestore:Completed": true,
	"s3:ObjectRestore:Delete": true, "s3:Replication:*": true, "s3:Replication:OperationFailedReplication": true,
	"s3:Replication:OperationNotTracked": true, "s3:Replication:OperationMissedThreshold": true,
	"s3:Replication:OperationReplicatedAfterThreshold": true, "s3:LifecycleTransition": true,
	"s3:IntelligentTiering": true, "s3:ObjectAcl:Put": true, "s3:LifecycleExpiration:*": true,
	"s3:LifecycleExpiration:Delete": true, "s3:LifecycleExpiration:DeleteMarkerCreated": true,
	"s3:ObjectTagging:*": true, "s3:ObjectTagging:Put": true, "s3:ObjectTagging:Delete": true,
}

// notifyRule is one destination of a stored configuration, flattened for matching.
type notifyRule struct {
	ID          string   `json:"id"`
	Destination string   `json:"dest"`
	Events      []string `json:"events"`
	Prefix      string   `json:"prefix,omitempty"`
	Suffix      string   `json:"suffix,omitempty"`
}

func (s *Service) registerNotificationOps() {
	awsproto.Handle(s.api, "PutBucketNotificationConfiguration", s.putBucketNotificationConfiguration)
	awsproto.Handle(s.api, "GetBucketNotificationConfiguration", s.getBucketNotificationConfiguration)
	s.deps.Queue.Handle(topicNotification, s.deliverStoredNotification, queue.HandlerOptions{})
}

func (s *Service) putBucketNotificationConfiguration(ctx context.Context, in *PutBucketNotificationConfigurationRequest) (*struct{}, error) {
	name := awsproto.Value(in.Bucket)
	b, err := s.authorize(ctx, s.reader(ctx), name, "s3:PutBucketNotification")
	if err != nil {
		return nil, err
	}
	cfg := in.NotificationConfiguration
	if cfg == nil {
		cfg = &NotificationConfiguration{}
	}
	rules, err := notifyRules(cfg)
	if err != nil {
		return nil, err
	}
	if err := s.validateDestinations(ctx, notifySource(b), rules, awsproto.Value(in.SkipDestinationValidation)); err != nil {
		return nil, err
	}
	stored, err := json.Marshal(cfg)
	if err != nil {
		return nil, err
	}
	c := awsproto.CallFrom(ctx)
	now := s.now().UTC()
	err = s.st.Write(ctx, func(tx *store.Tx) error {
		if _, err := tx.Exec(`INSERT INTO s3_bucket_configs (bucket, kind, body) VALUES (?, ?, ?)
			ON CONFLICT (bucket, kind) DO UPDATE SET body = excluded.body`, name, configNotification, string(stored)); err != nil {
			return err
		}
		if err := s.markConfig(tx, name, configNotification, true); err != nil {
			return err
		}
		// S3 tells every queue and topic that it is now wired to the bucket; it never
		// invokes a function with this test event.
		sent := map[string]bool{}
		for _, dest := range testEventDestinations(cfg) {
			if sent[dest] {
				continue
			}
			sent[dest] = true
			event, _ := json.Marshal(map[string]string{
				"Service": "Amazon S3", "Event": "s3:TestEvent", "Time": now.Format("2006-01-02T15:04:05.000Z"),
				"Bucket": b.Name, "RequestId": c.RequestID, "HostId": hostID(c.RequestID),
			})
			if err := s.enqueueNotification(ctx, tx, b, dest, event); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return &struct{}{}, nil
}

// testEventDestinations are the destinations S3 sends an s3:TestEvent when a configuration
// names them: its queues and topics.
func testEventDestinations(cfg *NotificationConfiguration) []string {
	var dests []string
	for _, c := range cfg.QueueConfigurations {
		dests = append(dests, awsproto.Value(c.QueueArn))
	}
	for _, c := range cfg.TopicConfigurations {
		dests = append(dests, awsproto.Value(c.TopicArn))
	}
	return dests
}

func (s *Service) getBucketNotificationConfiguration(ctx context.Context, in *GetBucketNotificationConfigurationRequest) (*NotificationConfiguration, error) {
	name := awsproto.Value(in.Bucket)
	q := s.reader(ctx)
	if _, err := s.authorize(ctx, q, name, "s3:GetBucketNotification"); err != nil {
		return nil, err
	}
	cfg, err := loadNotificationConfig(q, name)
	if err != nil {
		return nil, err
	}
	return cfg, nil
}

func loadNotificationConfig(q querier, bucketName string) (*NotificationConfiguration, error) {
	var raw string
	err := q.QueryRow(`SELECT body FROM s3_bucket_configs WHERE bucket = ? AND kind = ?`, bucketName, configNotification).Scan(&raw)
	if errors.Is(err, sql.ErrNoRows) {
		return &NotificationConfiguration{}, nil
	}
	if err != nil {
		return nil, err
	}
	cfg := &NotificationConfiguration{}
	return cfg, json.Unmarshal([]byte(raw), cfg)
}

// notifyRules validates a configuration as S3 does and flattens it into rules, filling in
// missing ids.
func notifyRules(cfg *NotificationConfiguration) ([]notifyRule, error) {
	var rules []notifyRule
	add := func(id *string, dest string, events []string, filter *NotificationConfigurationFilter) error {
		r := notifyRule{ID: awsproto.Value(id), Destination: dest, Events: events}
		if r.ID == "" {
			r.ID = newNotificationID()
			*id = r.ID
		}
		if len(events) == 0 {
			return errInvalidArgument("Event", "", "A notification configuration must name at least one event")
		}
		for _, e := range events {
			if !notificationEvents[e] {
				return errInvalidArgument("Event", e, "The event is not supported for notifications")
			}
		}
		if filter != nil && filter.Key != nil {
			for _, fr := range filter.Key.FilterRules {
				name, value := strings.ToLower(awsproto.Value(fr.Name)), awsproto.Value(fr.Value)
				switch {
				case name == "prefix" && r.Prefix == "":
					r.Prefix = value
				case name == "suffix" && r.Suffix == "":
					r.Suffix = value
				case name == "prefix" || name == "suffix":
					return errInvalidArgument("FilterRule", name, "Cannot specify more than one %s rule in a filter.", name)
				default:
					return errInvalidArgument("FilterRule", awsproto.Value(fr.Name), "filter rule name must be either prefix or suffix")
				}
			}
		}
		rules = append(rules, r)
		return nil
	}
	for i := range cfg.TopicConfigurations {
		c := &cfg.TopicConfigurations[i]
		if c.Id == nil {
			c.Id = new(string)
		}
		if err := add(c.Id, awsproto.Value(c.TopicArn), c.Events, c.Filter); err != nil {
			return nil, err
		}
	}
	for i := range cfg.QueueConfigurations {
		c := &cfg.QueueConfigurations[i]
		if c.Id == nil {
			c.Id = new(string)
		}
		if err := add(c.Id, awsproto.Value(c.QueueArn), c.Events, c.Filter); err != nil {
			return nil, err
		}
	}
	for i := range cfg.LambdaFunctionConfigurations {
		c := &cfg.LambdaFunctionConfigurations[i]
		if c.Id == nil {
			c.Id = new(string)
		}
		if err := add(c.Id, awsproto.Value(c.LambdaFunctionArn), c.Events, c.Filter); err != nil {
			return nil, err
		}
	}
	if err := checkOverlap(rules); err != nil {
		return nil, err
	}
	if cfg.EventBridgeConfiguration != nil {
		rules = append(rules, notifyRule{ID: "eventbridge", Destination: eventBridgeDestination, Events: eventBridgeEvents})
	}
	return rules, nil
}

// checkOverlap refuses two rules that could fire for the same event and key, as S3 does.
func checkOverlap(rules []notifyRule) error {
	for i, a := range rules {
		for _, b := range rules[i+1:] {
			if eventsOverlap(a.Events, b.Events) && affixOverlap(a.Prefix, b.Prefix, strings.HasPrefix) &&
				affixOverlap(a.Suffix, b.Suffix, strings.HasSuffix) {
				return errInvalidArgument("Event", "", "Configurations overlap. Configurations on the same bucket cannot share a common event type.")
			}
		}
	}
	return nil
}

func eventsOverlap(a, b []string) bool {
	for _, x := range a {
		for _, y := range b {
			if eventMatches(x, strings.TrimPrefix(y, "s3:")) || eventMatches(y, strings.TrimPrefix(x, "s3:")) {
				return true
			}
		}
	}
	return false
}

// affixOverlap reports whether some key could carry both affixes (an empty one matches all).
func affixOverlap(a, b string, has func(s, affix string) bool) bool {
	return a == "" || b == "" || has(a, b) || has(b, a)
}

// eventMatches reports whether configured event type pattern (e.g. "s3:ObjectCreated:*")
// covers event name (e.g. "ObjectCreated:Put").
func eventMatches(pattern, name string) bool {
	pattern = strings.TrimPrefix(pattern, "s3:")
	if p, ok := strings.CutSuffix(pattern, "*"); ok {
		return strings.HasPrefix(name, p)
	}
	return pattern == name
}

// validateDestinations refuses, as S3 does, destinations that do not exist or whose policy
// does not let S3 deliver the bucket's events; skip leaves that check out, as
// SkipDestinationValidation asks, but never accepts a destination no service delivers to.
func (s *Service) validateDestinations(ctx context.Context, src dispatch.Source, rules []notifyRule, skip bool) error {
	var bad []string
	for _, r := range rules {
		target := s.targetOf(r.Destination, src)
		if !s.deps.Targets.Delivers(target) {
			bad = append(bad, r.Destination)
			continue
		}
		if skip {
			continue
		}
		err := s.deps.Targets.Check(ctx, target, src)
		switch {
		case errors.Is(err, dispatch.ErrNoTarget), errors.Is(err, dispatch.ErrTargetDenied):
			bad = append(bad, r.Destination)
		case err != nil:
			return err
		}
	}
	if len(bad) == 0 {
		return nil
	}
	e := awsproto.Errorf("InvalidArgument", 400, "Unable to validate the following destination configurations")
	e.Fields = map[string]string{}
	for i, arn := range bad {
		n := strconv.Itoa(i + 1)
		e.Fields["ArgumentName"+n], e.Fields["ArgumentValue"+n] = destinationProblem(arn)
	}
	return e
}

// destinationProblem words one refused destination as S3's InvalidArgument details do.
func destinationProblem(arn string) (name, value string) {
	switch {
	case arn == eventBridgeDestination:
		return "EventBridgeConfiguration, null", "EventBridge is not available to deliver this bucket's events"
	case strings.HasPrefix(arn, "arn:aws:sqs:"):
		return arn + ", null", "Permissions on the destination queue do not allow S3 to publish notifications from this bucket"
	case strings.HasPrefix(arn, "arn:aws:sns:"):
		return arn + ", null", "Permissions on the destination topic do not allow S3 to publish notifications from this bucket"
	case strings.HasPrefix(arn, "arn:aws:lambda:"):
		return arn + ", null", "Not authorized to invoke function [" + arn + "]"
	}
	return arn + ", null", "The destination does not exist or does not allow S3 to publish notifications from this bucket"
}

// emit hands the event notifications an object change causes to the target registry, in the
// change's transaction. eventName is e.g. "ObjectCreated:Put"; ctx's call, when there is one,
// gives the event its request id, principal and source address.
func (s *Service) emit(ctx context.Context, tx *store.Tx, b bucket, eventName string, o *object) error {
	if !b.mayHave(configNotification) {
		return nil
	}
	cfg, err := loadNotificationConfig(tx, b.Name)
	if err != nil {
		return err
	}
	rules, err := notifyRules(cfg)
	if err != nil {
		return err
	}
	for _, r := range rules {
		if !ruleMatches(r, eventName, o.Key) {
			continue
		}
		var event []byte
		if r.Destination == eventBridgeDestination {
			event, err = eventBridgeJSON(ctx, b, eventName, o, s.now())
		} else {
			event, err = eventJSON(ctx, b, r.ID, eventName, o, s.now())
		}
		if err != nil {
			return err
		}
		if err := s.enqueueNotification(ctx, tx, b, r.Destination, event); err != nil {
			return err
		}
	}
	return nil
}

func ruleMatches(r notifyRule, eventName, key string) bool {
	if !strings.HasPrefix(key, r.Prefix) || !strings.HasSuffix(key, r.Suffix) {
		return false
	}
	for _, e := range r.Events {
		if eventMatches(e, eventName) {
			return true
		}
	}
	return false
}

// targetOf is the ARN a destination's events are delivered to: the destination itself, or
// for an EventBridge configuration the default event bus of the bucket's account and region.
func (s *Service) targetOf(dest string, src dispatch.Source) string {
	if dest == eventBridgeDestination {
		return "arn:aws:events:" + src.Region + ":" + src.Account + ":event-bus/default"
	}
	return dest
}

// notificationSubject is the subject of the messages S3 publishes to topics.
const notificationSubject = "Amazon S3 Notification"

// enqueueNotification hands one event for one destination to the target registry, in the
// transaction of the change that causes it.
func (s *Service) enqueueNotification(ctx context.Context, tx *store.Tx, b bucket, dest string, event []byte) error {
	src := notifySource(b)
	return s.deps.Targets.Enqueue(tx, dispatch.Delivery{
		Target: s.targetOf(dest, src), Source: src, Payload: event, Subject: notificationSubject, TraceParent: telemetry.TraceParent(ctx),
	}, dispatch.Policy{})
}

// storedNotification is an event notification as earlier versions of Kiri stored it.
type storedNotification struct {
	Destination string          `json:"dest"`
	Event       json.RawMessage `json:"event"`
	BucketARN   string          `json:"bucketArn,omitempty"`
	Account     string          `json:"account,omitempty"`
}

// deliverStoredNotification delivers an event notification stored by an earlier version.
func (s *Service) deliverStoredNotification(ctx context.Context, m queue.Message) error {
	var n storedNotification
	if err := json.Unmarshal(m.Body, &n); err != nil {
		return queue.Permanent(fmt.Errorf("decode notification: %w", err))
	}
	err := s.deps.Targets.Deliver(ctx, dispatch.Delivery{Target: n.Destination, Payload: n.Event,
		Source: dispatch.Source{Principal: s3Principal, ARN: n.BucketARN, Account: n.Account}})
	if errors.Is(err, dispatch.ErrNoTarget) || errors.Is(err, dispatch.ErrTargetDenied) {
		return queue.Permanent(err)
	}
	return err
}

// s3Event is the JSON S3 sends to notification destinations (event version 2.1).
type s3Event struct {
	Records []s3EventRecord `json:"Records"`
}

type s3EventRecord struct {
	EventVersion      string            `json:"eventVersion"`
	EventSource       string            `json:"eventSource"`
	AWSRegion         string            `json:"awsRegion"`
	EventTime         string            `json:"eventTime"`
	EventName         string            `json:"eventName"`
	UserIdentity      map[string]string `json:"userIdentity"`
	RequestParameters map[string]string `json:"requestParameters"`
	ResponseElements  map[string]string `json:"responseElements"`
	S3                s3EventEntity     `json:"s3"`
}

type s3EventEntity struct {
	SchemaVersion   string         `json:"s3SchemaVersion"`
	ConfigurationID string         `json:"configurationId"`
	Bucket          s3EventBucket  `json:"bucket"`
	Object          s3EventObjectT `json:"object"`
}

type s3EventBucket struct {
	Name          string            `json:"name"`
	OwnerIdentity map[string]string `json:"ownerIdentity"`
	ARN           string            `json:"arn"`
}

type s3EventObjectT struct {
	Key       string `json:"key"`
	Size      *int64 `json:"size,omitempty"`
	ETag      string `json:"eTag,omitempty"`
	VersionID string `json:"versionId,omitempty"`
	Sequencer string `json:"sequencer"`
}

// eventJSON renders one event record exactly as S3 shapes it: the key URL-encoded (spaces as
// '+'), the ETag unquoted, size only for creations, versionId only for versioned objects.
func eventJSON(ctx context.Context, b bucket, configID, eventName string, o *object, now time.Time) ([]byte, error) {
	var requestID, principal, source string
	if c := awsproto.CallFrom(ctx); c != nil {
		requestID, principal = c.RequestID, principalID(c)
		if c.Request != nil {
			source = c.Request.RemoteAddr
			if i := strings.LastIndexByte(source, ':'); i > 0 {
				source = source[:i]
			}
		}
	}
	obj := s3EventObjectT{
		Key:       eventKey(o.Key),
		Sequencer: sequencer(o),
	}
	if strings.HasPrefix(eventName, "ObjectCreated:") {
		size := o.Size
		obj.Size, obj.ETag = &size, strings.Trim(o.ETag, `"`)
	}
	if o.VersionID != "" && o.VersionID != nullVersion {
		obj.VersionID = o.VersionID
	}
	return json.Marshal(s3Event{Records: []s3EventRecord{{
		EventVersion:      "2.1",
		EventSource:       "aws:s3",
		AWSRegion:         b.Region,
		EventTime:         now.UTC().Format("2006-01-02T15:04:05.000Z"),
		EventName:         eventName,
		UserIdentity:      map[string]string{"principalId": principal},
		RequestParameters: map[string]string{"sourceIPAddress": source},
		ResponseElements:  map[string]string{"x-amz-request-id": requestID, "x-amz-id-2": hostID(requestID)},
		S3: s3EventEntity{
			SchemaVersion:   "1.0",
			ConfigurationID: configID,
			Bucket: s3EventBucket{Name: b.Name, OwnerIdentity: map[string]string{"principalId": b.Account},
				ARN: "arn:aws:s3:::" + b.Name},
			Object: obj,
		},
	}}})
}

// sequencer orders the events of one key, as S3's sequencer does.
func sequencer(o *object) string {
	return fmt.Sprintf("%016X", uint64(o.LastModified.UnixNano())+uint64(o.Seq))
}

// eventKey URL-encodes a key as S3 events carry it: form encoding (a space is '+'), with '/'
// left as is.
func eventKey(key string) string {
	return strings.ReplaceAll(url.QueryEscape(key), "%2F", "/")
}

// principalID is how S3 events name the caller: "AWS:<user id>".
func principalID(c *awsproto.Call) string {
	if c.UserID != "" {
		return "AWS:" + c.UserID
	}
	return "AWS:" + c.AccountID
}

// hostID stands in for S3's x-amz-id-2, derived from the request id.
func hostID(requestID string) string {
	return strings.ReplaceAll(requestID, "-", "")
}

func newNotificationID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
