package sns

import (
	"context"
	"crypto"
	"crypto/md5"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"sync"
	"time"

	"github.com/kiri-run/kiri/internal/store"
)

// SNS signs what it sends to endpoints (Amazon SNS Developer Guide, "Verifying the signatures of
// Amazon SNS messages"): SignatureVersion 1 is SHA1withRSA, 2 is SHA256withRSA, over a
// canonical string of the message's fields, and SigningCertURL serves the X.509 certificate of
// the key. Kiri makes one RSA key and self-signed certificate per data directory, on first use,
// and keeps them in the store, so a restarted Kiri keeps signing with the certificate that
// receivers may have cached; the certificate is served at the edge (see Frontend).

// certPathPrefix and certPathSuffix frame the file name of the signing certificate, as SNS's
// SigningCertURL names it: SimpleNotificationService-<hex>.pem.
const (
	certPathPrefix = "/SimpleNotificationService-"
	certPathSuffix = ".pem"
)

// signer holds the data directory's signing key and certificate.
type signer struct {
	key     *rsa.PrivateKey
	certPEM []byte
	// path is the certificate's path at the edge.
	path string
}

// keyring loads the signer once.
type keyring struct {
	mu sync.Mutex
	s  *signer
}

// signer returns the data directory's signer, making and storing one on first use.
func (s *Service) signer(ctx context.Context) (*signer, error) {
	s.keys.mu.Lock()
	defer s.keys.mu.Unlock()
	if s.keys.s != nil {
		return s.keys.s, nil
	}
	g, err := loadSigner(ctx, s.st)
	if errors.Is(err, sql.ErrNoRows) {
		keyPEM, certPEM, gerr := newSigningCert(s.now())
		if gerr != nil {
			return nil, gerr
		}
		if err := s.st.Write(ctx, func(tx *store.Tx) error {
			_, err := tx.Exec("INSERT INTO sns_signing (id, key_pem, cert_pem) VALUES (1, ?, ?) ON CONFLICT (id) DO NOTHING",
				string(keyPEM), string(certPEM))
			return err
		}); err != nil {
			return nil, fmt.Errorf("store signing key: %w", err)
		}
		g, err = loadSigner(ctx, s.st)
	}
	if err != nil {
		return nil, err
	}
	s.keys.s = g
	return g, nil
}

// loadSigner reads the stored key and certificate.
func loadSigner(ctx context.Context, st *store.Store) (*signer, error) {
	var keyPEM, certPEM string
	if err := st.QueryRow(ctx, "SELECT key_pem, cert_pem FROM sns_signing WHERE id = 1").Scan(&keyPEM, &certPEM); err != nil {
		return nil, err
	}
	kb, _ := pem.Decode([]byte(keyPEM))
	cb, _ := pem.Decode([]byte(certPEM))
	if kb == nil || cb == nil {
		return nil, errors.New("sns: stored signing key or certificate is not PEM")
	}
	key, err := x509.ParsePKCS1PrivateKey(kb.Bytes)
	if err != nil {
		return nil, fmt.Errorf("sns: stored signing key: %w", err)
	}
	sum := md5.Sum(cb.Bytes)
	return &signer{key: key, certPEM: []byte(certPEM), path: certPathPrefix + hex.EncodeToString(sum[:]) + certPathSuffix}, nil
}

// newSigningCert makes an RSA key and a self-signed certificate for it, both PEM-encoded.
func newSigningCert(now time.Time) (keyPEM, certPEM []byte, err error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, nil, fmt.Errorf("make signing key: %w", err)
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 62))
	if err != nil {
		return nil, nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber:          serial,
		Subject:               pkix.Name{CommonName: "sns.kiri.local", Organization: []string{"Kiri"}},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.AddDate(20, 0, 0),
		KeyUsage:              x509.KeyUsageDigitalSignature,
		BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, nil, fmt.Errorf("make signing certificate: %w", err)
	}
	keyPEM = pem.EncodeToMemory(&pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(key)})
	certPEM = pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return keyPEM, certPEM, nil
}

// sign returns the base64 signature of a canonical string: SHA1withRSA for SignatureVersion
// "1", SHA256withRSA for "2".
func (g *signer) sign(version string, canonical []byte) (string, error) {
	h, sum := crypto.SHA1, sha1Sum(canonical)
	if version == "2" {
		h, sum = crypto.SHA256, sha256Sum(canonical)
	}
	sig, err := rsa.SignPKCS1v15(nil, g.key, h, sum)
	if err != nil {
		return "", fmt.Errorf("sign message: %w", err)
	}
	return base64.StdEncoding.EncodeToString(sig), nil
}

func sha1Sum(b []byte) []byte   { s := sha1.Sum(b); return s[:] }
func sha256Sum(b []byte) []byte { s := sha256.Sum256(b); return s[:] }

// canonical is the string SNS signs for a message: the fields of its type, in byte order, each
// as name, newline, value, newline. Subject is included only when the message has one.
func canonical(n *notification, subscribeURL string) []byte {
	var b []byte
	add := func(name, value string) {
		b = append(b, name...)
		b = append(b, '\n')
		b = append(b, value...)
		b = append(b, '\n')
	}
	add("Message", n.Message)
	add("MessageId", n.MessageID)
	if n.Type == typeNotification {
		if n.Subject != "" {
			add("Subject", n.Subject)
		}
		add("Timestamp", n.Timestamp)
	} else {
		add("SubscribeURL", subscribeURL)
		add("Timestamp", n.Timestamp)
		add("Token", n.Token)
	}
	add("TopicArn", n.TopicARN)
	add("Type", n.Type)
	return b
}
