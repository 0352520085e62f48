package s3

import (
	"context"
	"encoding/json"
	"strings"
	"time"

	"github.com/kiri-run/kiri/internal/awsproto"
	"github.com/kiri-run/kiri/internal/busevent"
	"github.com/kiri-run/kiri/internal/uuid"
)

// eventBridgeEvents are the changes S3 sends to EventBridge: every creation and deletion,
// lifecycle expirations included.
var eventBridgeEvents = []string{"s3:ObjectCreated:*", "s3:ObjectRemoved:*", "s3:LifecycleExpiration:*"}

// eventBridgeDetail is the detail of the event S3 puts on the default bus for a change, in the
// shape AWS documents for "Object Created" and "Object Deleted".
type eventBridgeDetail struct {
	Version         string            `json:"version"`
	Bucket          map[string]string `json:"bucket"`
	Object          eventBridgeObject `json:"object"`
	RequestID       string            `json:"request-id"`
	Requester       string            `json:"requester"`
	SourceIPAddress string            `json:"source-ip-address,omitempty"`
	Reason          string            `json:"reason"`
	DeletionType    string            `json:"deletion-type,omitempty"`
}

type eventBridgeObject struct {
	Key       string `json:"key"`
	Size      *int64 `json:"size,omitempty"`
	ETag      string `json:"etag,omitempty"`
	VersionID string `json:"version-id,omitempty"`
	Sequencer string `json:"sequencer"`
}

// eventBridgeReasons name the API call behind an event, as the detail's reason does.
var eventBridgeReasons = map[string]string{
	"ObjectCreated:Put": "PutObject", "ObjectCreated:Post": "POST Object", "ObjectCreated:Copy": "CopyObject",
	"ObjectCreated:CompleteMultipartUpload": "CompleteMultipartUpload",
	"ObjectRemoved:Delete":                  "DeleteObject", "ObjectRemoved:DeleteMarkerCreated": "DeleteObject",
	"LifecycleExpiration:Delete": "Lifecycle Expiration", "LifecycleExpiration:DeleteMarkerCreated": "Lifecycle Expiration",
}

// eventBridgeJSON renders the event for one change: the key as it is (not URL-encoded), the
// ETag unquoted and the size for creations, the version id of versioned objects, and for
// deletions whether the object is gone or hidden by a delete marker.
func eventBridgeJSON(ctx context.Context, b bucket, eventName string, o *object, now time.Time) ([]byte, error) {
	var requestID, requester, source string
	if c := awsproto.CallFrom(ctx); c != nil {
		requestID, requester = c.RequestID, c.AccountID
		if c.Request != nil {
			source = c.Request.RemoteAddr
			if i := strings.LastIndexByte(source, ':'); i > 0 {
				source = source[:i]
			}
		}
	}
	if requester == "" {
		requester = s3Principal // a lifecycle expiration: S3 itself
	}
	d := eventBridgeDetail{
		Version: "0", Bucket: map[string]string{"name": b.Name}, RequestID: requestID, Requester: requester,
		SourceIPAddress: source, Reason: eventBridgeReasons[eventName],
		Object: eventBridgeObject{Key: o.Key, Sequencer: sequencer(o)},
	}
	detailType := "Object Deleted"
	if strings.HasPrefix(eventName, "ObjectCreated:") {
		detailType = "Object Created"
		size := o.Size
		d.Object.Size, d.Object.ETag = &size, strings.Trim(o.ETag, `"`)
	} else if strings.HasSuffix(eventName, "DeleteMarkerCreated") {
		d.DeletionType = "Delete Marker Created"
	} else {
		d.DeletionType = "Permanently Deleted"
	}
	if o.VersionID != "" && o.VersionID != nullVersion {
		d.Object.VersionID = o.VersionID
	}
	detail, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	return busevent.Encode(uuid.New(), detailType, "aws.s3", b.Account, b.Region, now, []string{"arn:aws:s3:::" + b.Name}, detail), nil
}
