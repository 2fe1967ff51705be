package relay

import (
	"crypto/hmac"
	"crypto/sha1" //nolint:gosec // HMAC-SHA1 is what the TURN REST convention and browsers' TURN servers use
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// MaxIDLength bounds the participant id inside a TURN username.
const MaxIDLength = 128

// Credentials makes the TURN REST credentials for one participant: the
// username is "<unix expiry>:<id>", the credential base64(HMAC-SHA1(secret,
// username)). Any TURN server that shares the secret (this package's Server,
// coturn's use-auth-secret, pion/turn's LongTermTURNRESTAuthHandler) accepts
// them until expiry.
func Credentials(secret []byte, id string, expiry time.Time) (username, credential string) {
	username = strconv.FormatInt(expiry.Unix(), 10) + ":" + id
	return username, sign(secret, username)
}

func sign(secret []byte, username string) string {
	mac := hmac.New(sha1.New, secret)
	mac.Write([]byte(username))
	return base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// ParseUsername splits a TURN REST username into its expiry and id. ok is
// false for anything that is not "<unix seconds>:<id>" with a non-empty id of
// at most MaxIDLength bytes.
func ParseUsername(username string) (expiry time.Time, id string, ok bool) {
	ts, id, found := strings.Cut(username, ":")
	if !found || id == "" || len(id) > MaxIDLength || len(ts) == 0 || len(ts) > 12 {
		return time.Time{}, "", false
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || sec <= 0 {
		return time.Time{}, "", false
	}
	return time.Unix(sec, 0), id, true
}
