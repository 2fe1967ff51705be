package newsletter

import (
	"github.com/worktogether/worktogether/i18n"
	"github.com/worktogether/worktogether/session"
)

// Languages mails are written in: the catalog's (static/i18n), English
// first.
var Languages = []string{"en", "de"}

// words are the catalog's messages in one language, for one mail.
type words struct {
	cat  *i18n.Catalog
	lang string
}

// t is the mail's message key ("mail.when") with its {name} values.
func (w words) t(key string, args ...any) string { return w.cat.T(w.lang, key, args...) }

// planLines lists the phases with their lengths, as the pages do.
func (w words) planLines(plan session.Plan) []string {
	out := make([]string, len(plan))
	for i, p := range plan {
		out[i] = w.cat.PlanPart(w.lang, string(p.Kind), p.Seconds)
	}
	return out
}
