package web

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
)

// API errors speak the request's language (Accept-Language); the code and
// the JSON shape stay the same.
func TestAPIErrorsInTheRequestsLanguage(t *testing.T) {
	h := newMailHarness(t)
	for _, tc := range []struct{ accept, want string }{
		{"de-DE,de;q=0.9", "das sieht nicht nach einer E-Mail-Adresse aus"},
		{"en-GB", "that does not look like an e-mail address"},
		{"fr", "that does not look like an e-mail address"},
	} {
		req, _ := http.NewRequest("POST", h.http.URL+"/api/subscribe", strings.NewReader(`{"email": "nope", "name": "X"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept-Language", tc.accept)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var e apiError
		err = json.NewDecoder(resp.Body).Decode(&e)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 400 || e.Error.Code != "invalid" || e.Error.Message != tc.want {
			t.Errorf("Accept-Language %s: %d %+v %v, want %q", tc.accept, resp.StatusCode, e, err, tc.want)
		}
	}
	// A refused link's page follows the browser, and offers the other language.
	code, body := h.raw("GET", h.http.URL+"/confirm?token=nonsense&lang=de", "", "")
	if code != 400 || !strings.Contains(body, `<html lang="de">`) || !strings.Contains(body, "Dieser Link ist ungültig") ||
		!strings.Contains(body, `hreflang="en"`) {
		t.Fatalf("refused link in German: %d %s", code, body)
	}
}

// An unknown address gets a page in the site's look (or JSON under /api/),
// not Go's bare "404 page not found".
func TestUnknownAddress(t *testing.T) {
	h := newHarness(t, Limits{})
	code, body := h.raw("GET", h.http.URL+"/no/such/page?lang=de", "", "")
	if code != 404 || !strings.Contains(body, "Diese Seite gibt es nicht") || !strings.Contains(body, `href="/"`) {
		t.Fatalf("unknown page: %d %s", code, body)
	}
	var e apiError
	if code := h.do("GET", "/api/nothing", "", nil, &e); code != 404 || e.Error.Code != "not_found" {
		t.Fatalf("unknown API address: %d %+v", code, e)
	}
}
