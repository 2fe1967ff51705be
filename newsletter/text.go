package newsletter

import (
	"fmt"
	"strings"
	"time"

	"github.com/worktogether/worktogether/session"
)

// Languages mails are written in.
var Languages = []string{"en", "de"}

// words are one language's texts. Strings with %s take the session title.
type words struct {
	weekdays [7]string
	months   [12]string
	dateFmt  func(t time.Time, w *words) string
	kinds    map[session.Kind]string
	minutes  string // "%d min"

	confirmSubject, confirmIntro, confirmButton, confirmIgnore string
	announceSubject, announceIntro                             string
	reminderSubject, reminderSoonSubject, reminderIntro        string
	updateSubject, updateIntro                                 string
	cancelSubject, cancelIntro                                 string
	when, plan, join, joinNote, calendarNote, unsubscribe      string
	record, series                                             string
	greeting, greetingAnon, signoff                            string
}

var texts = map[string]*words{
	"en": {
		weekdays: [7]string{"Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"},
		months:   [12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		dateFmt: func(t time.Time, w *words) string {
			return fmt.Sprintf("%s, %d %s %d, %s", w.weekdays[t.Weekday()], t.Day(), w.months[t.Month()-1], t.Year(), t.Format("15:04"))
		},
		kinds: map[session.Kind]string{session.Commitment: "commitment round", session.Work: "focused work",
			session.Break: "break", session.Closing: "closing round"},
		minutes:             "%d min",
		greeting:            "Hi %s,",
		greetingAnon:        "Hello,",
		signoff:             "See you there!\nWorktogether",
		confirmSubject:      "Please confirm your Worktogether subscription",
		confirmIntro:        "you (or someone with your address) asked to hear about upcoming Worktogether sessions. Please confirm that this is you:",
		confirmButton:       "Confirm my subscription",
		confirmIgnore:       "If this was not you, ignore this mail: nothing else will be sent.",
		announceSubject:     "New Worktogether: %s",
		announceIntro:       "a new Worktogether is on the calendar. Say what you will get done, work alongside others, then share what you did.",
		reminderSubject:     "Reminder: %s",
		reminderSoonSubject: "Starting soon: %s",
		reminderIntro:       "a friendly reminder: the Worktogether below is coming up.",
		updateSubject:       "New time: %s",
		updateIntro:         "the Worktogether below has moved. Your calendar entry is updated with this mail.",
		cancelSubject:       "Cancelled: %s",
		cancelIntro:         "the Worktogether below has been cancelled. Sorry about that: we hope to see you at the next one.",
		when:                "When",
		plan:                "Plan",
		join:                "Join the room",
		joinNote:            "This link is yours alone: it lets you in under your name.",
		calendarNote:        "The attached invitation adds it to your calendar.",
		unsubscribe:         "No more mails from Worktogether? Unsubscribe with one click:",
		record:              "What you set out to do in past sessions, and what got done:",
		series:              "Choose which series you hear about:",
	},
	"de": {
		weekdays: [7]string{"Sonntag", "Montag", "Dienstag", "Mittwoch", "Donnerstag", "Freitag", "Samstag"},
		months:   [12]string{"Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"},
		dateFmt: func(t time.Time, w *words) string {
			return fmt.Sprintf("%s, %d. %s %d, %s Uhr", w.weekdays[t.Weekday()], t.Day(), w.months[t.Month()-1], t.Year(), t.Format("15:04"))
		},
		kinds: map[session.Kind]string{session.Commitment: "Vorhaben-Runde", session.Work: "konzentriertes Arbeiten",
			session.Break: "Pause", session.Closing: "Abschlussrunde"},
		minutes:             "%d Min.",
		greeting:            "Hallo %s,",
		greetingAnon:        "Hallo,",
		signoff:             "Bis bald!\nWorktogether",
		confirmSubject:      "Bitte bestätige dein Worktogether-Abo",
		confirmIntro:        "du (oder jemand mit deiner Adresse) möchtest von kommenden Worktogether-Sessions erfahren. Bitte bestätige, dass du das bist:",
		confirmButton:       "Abo bestätigen",
		confirmIgnore:       "Warst du das nicht? Dann ignoriere diese Mail: Es kommt nichts weiter.",
		announceSubject:     "Neues Worktogether: %s",
		announceIntro:       "ein neues Worktogether steht im Kalender. Sag, was du schaffen willst, arbeite gemeinsam mit anderen und erzähl danach, was du geschafft hast.",
		reminderSubject:     "Erinnerung: %s",
		reminderSoonSubject: "Gleich geht's los: %s",
		reminderIntro:       "eine freundliche Erinnerung: Das Worktogether unten steht bald an.",
		updateSubject:       "Neue Zeit: %s",
		updateIntro:         "das Worktogether unten wurde verschoben. Dein Kalendereintrag wird mit dieser Mail aktualisiert.",
		cancelSubject:       "Abgesagt: %s",
		cancelIntro:         "das Worktogether unten wurde leider abgesagt. Wir hoffen, dich beim nächsten Mal zu sehen.",
		when:                "Wann",
		plan:                "Ablauf",
		join:                "Zum Raum",
		joinNote:            "Dieser Link gehört nur dir: Er lässt dich unter deinem Namen herein.",
		calendarNote:        "Mit der angehängten Einladung landet es in deinem Kalender.",
		unsubscribe:         "Keine Mails mehr von Worktogether? Mit einem Klick abmelden:",
		record:              "Was du dir in früheren Sessions vorgenommen und was du geschafft hast:",
		series:              "Wähle, von welchen Reihen du hörst:",
	},
}

// wordsFor returns the texts of lang, English when unknown.
func wordsFor(lang string) *words {
	if w, ok := texts[lang]; ok {
		return w
	}
	return texts["en"]
}

// localTime writes t in the subscriber's time zone and language, naming the
// zone.
func (w *words) localTime(t time.Time, tz string) string {
	loc, err := time.LoadLocation(tz)
	if err != nil {
		loc, tz = time.UTC, "UTC"
	}
	return w.dateFmt(t.In(loc), w) + " (" + strings.ReplaceAll(tz, "_", " ") + ")"
}

// planLines lists the phases with their lengths.
func (w *words) planLines(plan session.Plan) []string {
	out := make([]string, len(plan))
	for i, p := range plan {
		out[i] = fmt.Sprintf(w.minutes, (p.Seconds+59)/60) + " " + w.kinds[p.Kind]
	}
	return out
}

// LocalTime writes t as the mails do, in lang and time zone tz, naming the
// zone: for pages that show the same times.
func LocalTime(lang string, t time.Time, tz string) string {
	return wordsFor(lang).localTime(t, tz)
}
