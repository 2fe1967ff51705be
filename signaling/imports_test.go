package signaling

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"
)

const module = "github.com/worktogether/worktogether"

// webLayer is what the room core must never import, directly or through
// another package: the web layer, the subscribers' mail and pages, links and
// tokens (admission is the web layer's), and page or mail code.
var webLayer = []string{
	module + "/web",
	module + "/newsletter",
	module + "/links",
	module + "/token",
	module + "/i18n",
	module + "/static",
	module + "/metrics",
	"html/template",
	"text/template",
	"net/smtp",
	"net/mail",
	"github.com/emersion/go-smtp",
	"github.com/emersion/go-message",
}

// listed is one package of `go list -deps -json`.
type listed struct {
	ImportPath string
	Imports    []string
}

// deps lists pkg and every package it imports, directly or not.
func deps(t *testing.T, pkg string) []listed {
	t.Helper()
	goTool, err := exec.LookPath("go")
	if err != nil {
		goTool = filepath.Join(runtime.GOROOT(), "bin", "go")
	}
	cmd := exec.Command(goTool, "list", "-deps", "-json=ImportPath,Imports", pkg)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list -deps %s: %v\n%s", pkg, err, stderr.String())
	}
	var list []listed
	dec := json.NewDecoder(bytes.NewReader(out))
	for {
		var p listed
		if err := dec.Decode(&p); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		list = append(list, p)
	}
	return list
}

func inLayer(path string, layer []string) bool {
	for _, l := range layer {
		if path == l || strings.HasPrefix(path, l+"/") {
			return true
		}
	}
	return false
}

// TestRoomCoreImportsNothingOfTheWebLayer holds the arrow one way: web
// imports the room core, and nothing the core imports, however indirectly,
// is of the web layer.
func TestRoomCoreImportsNothingOfTheWebLayer(t *testing.T) {
	core := deps(t, module+"/signaling")
	paths := make([]string, 0, len(core))
	for _, p := range core {
		paths = append(paths, p.ImportPath)
		for _, imp := range p.Imports {
			if inLayer(imp, webLayer) {
				t.Errorf("%s imports %s: the room core must not know the web layer", p.ImportPath, imp)
			}
		}
	}
	// The list is real: what the core is built on is in it.
	for _, want := range []string{module + "/signaling", module + "/sfu", module + "/session", module + "/store", "go.uber.org/zap"} {
		if !slices.Contains(paths, want) {
			t.Errorf("go list -deps signaling has no %s: the check would see nothing", want)
		}
	}
	// And the check can see an arrow: the web layer does import the core.
	web := deps(t, module+"/web")
	found := false
	for _, p := range web {
		if p.ImportPath == module+"/web" {
			found = slices.Contains(p.Imports, module+"/signaling")
		}
	}
	if !found {
		t.Errorf("%s/web does not import %s/signaling: the check would see nothing", module, module)
	}
}
