package newsletter

import (
	"bytes"
	"context"
	"encoding/json"
	"net/mail"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/worktogether/worktogether/internal/smtptest"
	"github.com/worktogether/worktogether/links"
	"github.com/worktogether/worktogether/store"
	"github.com/worktogether/worktogether/token"
	"go.uber.org/zap"
	"go.uber.org/zap/zaptest/observer"
)

// TestRefusalsKeepTheAddressOutOfTheLog has the mail server refuse the
// recipient, naming the address (in upper case) as real servers do: the
// worker gives the mail up, and no log line holds the address, whatever
// its case; the next mail goes out.
func TestRefusalsKeepTheAddressOutOfTheLog(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "wt.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	signer, _ := token.NewSigner(bytes.Repeat([]byte{4}, 32))
	lm, err := links.New("https://cowork.example.org", signer)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := smtptest.Start("", "")
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	transport, err := ParseSMTP(srv.URL())
	if err != nil {
		t.Fatal(err)
	}
	core, logs := observer.New(zap.DebugLevel)
	now := time.Date(2027, 2, 1, 9, 0, 0, 0, time.UTC)
	w := NewWorker(Config{Store: st, Transport: transport, Log: zap.New(core), Now: func() time.Time { return now },
		Renderer: &Renderer{Store: st, Links: lm, From: mail.Address{Address: "hello@cowork.example.org"}, Text: shippedText(t)}})
	for _, addr := range []string{"refused.person@example.org", "fine@example.org"} {
		if err := st.Subscribe(ctx, store.Subscriber{ID: addr, Email: addr, Name: "X", Lang: "en", TZ: "UTC"}, now); err != nil {
			t.Fatal(err)
		}
	}
	srv.RefuseRcpt.Store(1)
	w.SendDue(ctx)
	m, err := srv.Next(5 * time.Second)
	if err != nil || m.To[0] != "fine@example.org" {
		t.Fatalf("the second mail: %v %+v", err, m)
	}
	if c, err := st.MailCounts(ctx, ""); err != nil || c["failed"] != 1 || c["sent"] != 1 {
		t.Fatalf("mail counts %v %v", c, err)
	}
	var all strings.Builder
	refusal := false
	for _, e := range logs.All() {
		line, _ := json.Marshal(e.ContextMap())
		all.WriteString(e.Message + " " + string(line) + "\n")
		refusal = refusal || strings.Contains(string(line), "mailbox unavailable")
	}
	if !refusal {
		t.Fatalf("the refusal is not logged:\n%s", all.String())
	}
	if s := strings.ToLower(all.String()); strings.Contains(s, "refused.person@") || strings.Contains(s, "fine@") {
		t.Fatalf("an address in the log:\n%s", all.String())
	}
}
