package auth

import (
	"crypto/sha256"
	"sync"
)

// keyCacheLimit bounds the signing-key cache. A key is valid for one day, so
// the cache is simply emptied when it fills up.
const keyCacheLimit = 4096

type keyCacheID struct{ accessKeyID, date, region, service string }

type cachedKey struct {
	secret string // the secret the key was derived from; temporary keys can be reissued
	key    [sha256.Size]byte
}

// keyCache keeps derived signing keys per access key, date, region and
// service, so a verification costs two HMACs instead of six.
type keyCache struct {
	mu sync.Mutex
	m  map[keyCacheID]cachedKey
}

func (c *keyCache) signingKey(k *Key, sig *Signature) [sha256.Size]byte {
	id := keyCacheID{k.AccessKeyID, sig.Date, sig.Region, sig.Service}
	c.mu.Lock()
	e, ok := c.m[id]
	c.mu.Unlock()
	if ok && e.secret == k.SecretAccessKey {
		return e.key
	}
	key := deriveSigningKey(k.SecretAccessKey, sig.Date, sig.Region, sig.Service)
	c.mu.Lock()
	if c.m == nil || len(c.m) >= keyCacheLimit {
		c.m = make(map[keyCacheID]cachedKey)
	}
	c.m[id] = cachedKey{secret: k.SecretAccessKey, key: key}
	c.mu.Unlock()
	return key
}
